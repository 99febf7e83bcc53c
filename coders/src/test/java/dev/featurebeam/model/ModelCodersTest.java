package dev.featurebeam.model;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.instanceOf;
import static org.hamcrest.Matchers.is;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.testing.CoderProperties;
import org.junit.jupiter.api.Test;

/**
 * The model types' coders: the registry finds each, and each round-trips representative and edge
 * values, is deterministic and consistent with equals as it claims, and gives a decoded value the
 * structural value of the original.
 */
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

  /** Every property a deterministic coder, consistent with equals, has on these values. */
  @SafeVarargs
  private static <T> void deterministicCoder(Coder<T> coder, T value, T equalValue, T... others)
      throws Exception {
    List<T> all = new ArrayList<>(List.of(value, equalValue));
    all.addAll(List.of(others));
    for (T v : all) {
      CoderProperties.coderDecodeEncodeEqual(coder, v);
      CoderProperties.structuralValueDecodeEncodeEqual(coder, v);
      CoderProperties.coderConsistentWithEquals(coder, value, v);
    }
    CoderProperties.coderDeterministic(coder, value, equalValue);
    assertThat(coder.consistentWithEquals(), is(true));
    coder.verifyDeterministic();
    CoderProperties.coderSerializable(coder);
  }

  @Test
  void quarantineRecords() throws Exception {
    deterministicCoder(QuarantineRecord.QuarantineRecordCoder.of(),
        QuarantineRecord.of("BAD_TYPE:amount", "amount: not a number: x", "a.csv:3", "e1,u1,x"),
        QuarantineRecord.of("BAD_TYPE:amount", "amount: not a number: x", "a.csv:3",
            new StringBuilder("e1,u1,").append('x').toString()),
        QuarantineRecord.of("", "", "", ""),
        QuarantineRecord.of("MALFORMED", "too long", "a.csv:9", "y".repeat(70_000)),
        QuarantineRecord.of("MALFORMED", "d".repeat(5_000), "s", "start", 5_000_000),
        QuarantineRecord.of("BAD_TYPE:name", "ü \uD83D\uDE00 \n\t\"", "k/0@9", "{\"name\":\"ü\"}"));
  }

  @Test
  void invalidValues() throws Exception {
    deterministicCoder(InvalidValue.InvalidValueCoder.of(),
        InvalidValue.of(20_000, "u1", "amount_sum", "int64 sum overflows"),
        InvalidValue.of(20_000, "u" + 1, "amount_sum", "int64 sum overflows"),
        InvalidValue.of(-719_528, "", "", ""),
        InvalidValue.of(Long.MAX_VALUE, "ü", "f", "not finite: Infinity"),
        InvalidValue.of(Long.MIN_VALUE, "u", "f", "r"));
  }

  @Test
  void checkOutcomes() throws Exception {
    deterministicCoder(CheckOutcome.CheckOutcomeCoder.of(),
        CheckOutcome.of("avg <= 10", true, "0 of 3 rows fail"),
        CheckOutcome.of("avg <= " + 10, true, "0 of 3 rows fail"),
        CheckOutcome.of("avg <= 10", false, "0 of 3 rows fail"),
        CheckOutcome.of("", false, ""),
        CheckOutcome.of("c", true, "e.g. " + "ü".repeat(10_000)));
  }

  @Test
  void partitionVerdicts() throws Exception {
    CheckOutcome pass = CheckOutcome.of("c", true, "0 rows fail");
    CheckOutcome fail = CheckOutcome.of("d", false, "1 row fails");
    deterministicCoder(PartitionVerdict.PartitionVerdictCoder.of(),
        PartitionVerdict.of(7, 3, List.of(pass, fail)),
        PartitionVerdict.of(7, 3, new ArrayList<>(List.of(pass, fail))),
        PartitionVerdict.of(7, 3, List.of(fail, pass)),
        PartitionVerdict.of(0, 0, List.of()),
        PartitionVerdict.of(-1, Long.MAX_VALUE, List.of(pass, pass, pass)));
  }

  @Test
  void partitionOutcomes() throws Exception {
    deterministicCoder(PartitionOutcome.PartitionOutcomeCoder.of(),
        PartitionOutcome.of(20_000, true, 12, "/out/fs/v1/as_of_date=2024-10-04", List.of(), "ab"),
        PartitionOutcome.of(20_000, true, 12, "/out/fs/v1/as_of_date=2024-10-04",
            new ArrayList<>(), "a" + "b"),
        PartitionOutcome.of(-3, false, 0, "/p", List.of("check x failed", "check y failed")),
        PartitionOutcome.of(0, false, 0, "", List.of("")),
        PartitionOutcome.of(Long.MAX_VALUE, true, Long.MAX_VALUE, "/ü", List.of(), "f".repeat(64)));
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
