package dev.featurebeam.model;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.instanceOf;
import static org.hamcrest.Matchers.is;

import java.util.List;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.testing.CoderProperties;
import org.junit.jupiter.api.Test;

/** The model types' coders round-trip, are deterministic, and the registry finds them. */
class ModelCodersTest {
  @Test
  void coderRegistryFindsEachTypesOwnCoder() throws Exception {
    CoderRegistry registry = CoderRegistry.createDefault();
    assertThat(registry.getCoder(QuarantineRecord.class),
        instanceOf(QuarantineRecord.QuarantineRecordCoder.class));
    assertThat(registry.getCoder(InvalidValue.class),
        instanceOf(InvalidValue.InvalidValueCoder.class));
    assertThat(registry.getCoder(PartitionOutcome.class),
        instanceOf(PartitionOutcome.PartitionOutcomeCoder.class));
    assertThat(registry.getCoder(PartitionVerdict.class),
        instanceOf(PartitionVerdict.PartitionVerdictCoder.class));
    assertThat(registry.getCoder(CheckOutcome.class),
        instanceOf(CheckOutcome.CheckOutcomeCoder.class));
    assertThat(registry.getCoder(RawRecord.class), instanceOf(RawRecord.RawRecordCoder.class));
  }

  @Test
  void valuesRoundTrip() throws Exception {
    CoderProperties.coderDecodeEncodeEqual(QuarantineRecord.QuarantineRecordCoder.of(),
        QuarantineRecord.of("BAD_TYPE:amount", "amount: not a number: x", "a.csv:3", "e1,u1,x"));
    CoderProperties.coderDecodeEncodeEqual(QuarantineRecord.QuarantineRecordCoder.of(),
        QuarantineRecord.of("MALFORMED", "too long", "a.csv:9", "y".repeat(70_000)));
    CoderProperties.coderDecodeEncodeEqual(InvalidValue.InvalidValueCoder.of(),
        InvalidValue.of(20_000, "u1", "amount_sum", "int64 sum overflows"));
    CoderProperties.coderDecodeEncodeEqual(PartitionOutcome.PartitionOutcomeCoder.of(),
        PartitionOutcome.of(20_000, true, 12, "/out/fs/v1/as_of_date=2024-10-04", List.of(), "ab"));
    CoderProperties.coderDecodeEncodeEqual(PartitionOutcome.PartitionOutcomeCoder.of(),
        PartitionOutcome.of(-3, false, 0, "/p", List.of("check x failed", "check y failed")));
    CoderProperties.coderDecodeEncodeEqual(PartitionVerdict.PartitionVerdictCoder.of(),
        PartitionVerdict.of(7, 3, List.of(CheckOutcome.of("c", true, "0 rows fail"),
            CheckOutcome.of("d", false, "1 row fails"))));
    CoderProperties.coderDeterministic(QuarantineRecord.QuarantineRecordCoder.of(),
        QuarantineRecord.of("A", "b", "c", "d"), QuarantineRecord.of("A", "b", "c", "d"));
  }

  @Test
  void aLongPayloadIsKeptInPartWithoutSplittingACharacter() {
    String emoji = "\uD83D\uDE00"; // two UTF-16 units
    String payload = "a".repeat(QuarantineRecord.MAX_PAYLOAD_CHARS - 1) + emoji + "tail";
    QuarantineRecord r = QuarantineRecord.of("MALFORMED", "d", "s", payload);
    assertThat(r.payload(), is("a".repeat(QuarantineRecord.MAX_PAYLOAD_CHARS - 1)));
    assertThat(r.payloadTruncated(), is(true));
    assertThat(r.payloadLength(), is((long) payload.length()));

    QuarantineRecord whole = QuarantineRecord.of("MALFORMED", "d", "s", "short");
    assertThat(whole.payloadTruncated(), is(false));
    assertThat(whole.payloadLength(), is(-1L));

    // A source that kept only the start of a record says how long the whole was.
    QuarantineRecord cut = QuarantineRecord.of("MALFORMED", "d", "s", "start", 5_000_000);
    assertThat(cut.payload(), is("start"));
    assertThat(cut.payloadLength(), is(5_000_000L));
  }
}
