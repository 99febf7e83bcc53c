package dev.featurebeam.model;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.instanceOf;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.testing.CoderProperties;
import org.apache.beam.sdk.util.CoderUtils;
import org.junit.jupiter.api.Test;

class RawRecordTest {
  private static final Coder<RawRecord> CODER = RawRecord.RawRecordCoder.of();

  private static Map<String, String> fields() {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("user_id", "{\"a\":1}");
    fields.put("tags", "[1,2]");
    fields.put("note", null);
    fields.put("amount", "12.50");
    return fields;
  }

  @Test
  void everyKindOfRecordSurvivesTheCoder() throws Exception {
    List<RawRecord> records = List.of(
        RawRecord.of("f.jsonl:1", "{\"user_id\":{\"a\":1},\"tags\":[1,2],\"note\":null,\"amount\":12.50}",
            fields(), Set.of("user_id", "tags")),
        RawRecord.of("f.csv:2", "u1,12.50", Map.of("user_id", "u1", "amount", "12.50")),
        RawRecord.of("f.csv:3", "", Map.of()),
        RawRecord.malformed("f.csv:4", "u1,\"open", "CSV record cannot be parsed"),
        RawRecord.malformed("f.csv:6", "x".repeat(100), "too long", 3_000_000),
        RawRecord.blank("f.csv:5"),
        RawRecord.typed("t:7", "{}", Map.of("user_id", "u1"), typedValues()));
    for (RawRecord r : records) {
      CoderProperties.coderDecodeEncodeEqual(CODER, r);
      CoderProperties.coderDecodeEncodeEqual(CODER, r); // the coder keeps no state
      // Not consistent with equals, so the structural value is the encoding: a decoded record
      // must encode to the same bytes, its fields and nested names in the same order.
      CoderProperties.structuralValueDecodeEncodeEqual(CODER, r);
    }
    CoderProperties.coderSerializable(CODER);
  }

  private static Map<String, Object> typedValues() {
    Map<String, Object> values = new LinkedHashMap<>();
    values.put("ts", 1_735_689_600_123L);
    values.put("amount", -0.0);
    values.put("big", Double.MAX_VALUE);
    values.put("flag", true);
    return values;
  }

  @Test
  void typedValuesKeepTheirTypesAndValuesThroughTheCoder() throws Exception {
    RawRecord r = RawRecord.typed("t:7", "{}", Map.of("user_id", "u1"), typedValues());
    RawRecord back = CoderUtils.clone(CODER, r);
    assertThat(back.values(), equalTo(typedValues()));
    assertThat(back.values().get("ts"), instanceOf(Long.class));
    assertThat(Double.doubleToRawLongBits((Double) back.values().get("amount")),
        equalTo(Double.doubleToRawLongBits(-0.0)));
    assertThat(back.fields(), equalTo(Map.of("user_id", "u1")));
    assertThat(RawRecord.of("f", "p", Map.of()).values().isEmpty(), is(true));
    assertThrows(IllegalArgumentException.class,
        () -> RawRecord.typed("t", "{}", Map.of(), Map.of("ts", "2025-01-01")));
    assertThrows(IllegalArgumentException.class,
        () -> RawRecord.typed("t", "{}", Map.of("ts", "x"), Map.of("ts", 1L)));
  }

  @Test
  void theCoderSaysItIsNotDeterministicAndWhy() throws Exception {
    Map<String, String> reversed = new LinkedHashMap<>();
    List<String> names = new ArrayList<>(fields().keySet());
    Collections.reverse(names);
    names.forEach(n -> reversed.put(n, fields().get(n)));
    RawRecord a = RawRecord.of("f.jsonl:1", "{}", fields());
    RawRecord b = RawRecord.of("f.jsonl:1", "{}", reversed);
    assertThat(a, equalTo(b));
    assertThat(CoderUtils.encodeToByteArray(CODER, a),
        not(equalTo(CoderUtils.encodeToByteArray(CODER, b))));
    assertThat(CODER.consistentWithEquals(), is(false));
    Coder.NonDeterministicException e =
        assertThrows(Coder.NonDeterministicException.class, CODER::verifyDeterministic);
    assertThat(e.getMessage(), containsString("iteration order"));
    // Decoding keeps the order the fields were read in.
    assertThat(List.copyOf(CoderUtils.clone(CODER, b).fields().keySet()), equalTo(names));
  }

  /** The nested names and the blank flag are part of the value, so a coder that dropped them fails. */
  @Test
  void nestedNamesAndBlanknessAreKept() throws Exception {
    RawRecord nested = RawRecord.of("f.jsonl:1", "{}", fields(), Set.of("user_id", "tags"));
    RawRecord decoded = CoderUtils.decodeFromByteArray(CODER, CoderUtils.encodeToByteArray(CODER, nested));
    assertThat(decoded.nested(), equalTo(Set.of("user_id", "tags")));
    assertThat(decoded.fields().containsKey("note"), is(true));
    assertThat(decoded, not(equalTo(RawRecord.of("f.jsonl:1", "{}", fields()))));

    RawRecord blank = CoderUtils.decodeFromByteArray(CODER,
        CoderUtils.encodeToByteArray(CODER, RawRecord.blank("f.csv:7")));
    assertThat(blank.blank(), is(true));
    assertThat(blank.source(), equalTo("f.csv:7"));
    assertThat(blank.payload(), equalTo(""));
    assertThat(blank.fields().isEmpty(), is(true));
    assertThat(blank, not(equalTo(RawRecord.of("f.csv:7", "", Map.of()))));
    assertThat(RawRecord.of("f.csv:2", "u1", Map.of("user_id", "u1")).nested(), empty());
  }
}
