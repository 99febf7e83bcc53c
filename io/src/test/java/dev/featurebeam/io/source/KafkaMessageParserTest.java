package dev.featurebeam.io.source;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;

import dev.featurebeam.model.RawRecord;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KafkaMessageParserTest {
  private final KafkaMessageParser parser = new KafkaMessageParser();

  private RawRecord parse(String value) {
    return parser.parse("events/0@7", value.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aJsonObjectIsParsedAsAJsonLineIs() {
    String value = "{\"user_id\":\"u1\",\"amount\":12.50,\"note\":null,\"tags\":[\"a\"]}";
    RawRecord r = parse(value);
    assertThat(r, equalTo(JsonLineParser.parse("events/0@7", value)));
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("user_id", "u1");
    fields.put("amount", "12.50");
    fields.put("note", null);
    fields.put("tags", "[\"a\"]");
    assertThat(r.fields(), equalTo(fields));
    assertThat(r.nested(), equalTo(Set.of("tags")));
    assertThat(r.formatError(), nullValue());
    assertThat(r.payload(), is(value));
  }

  @Test
  void valuesThatAreNoJsonObjectAreMalformedWithTheJsonLineParsersErrors() {
    RawRecord notJson = parse("not json");
    assertThat(notJson.formatError(), startsWith("invalid JSON: "));
    assertThat(notJson.payload(), is("not json"));
    assertThat(parse("[1,2]").formatError(), is("JSON line is not an object"));
    assertThat(parse("{} {}").formatError(), is("JSON line has content after its object"));
    assertThat(parse("  ").formatError(), is("JSON line is not an object"));
  }

  @Test
  void aTombstoneAndAnEmptyValueAreMalformed() {
    RawRecord tombstone = parser.parse("events/1@3", null);
    assertThat(tombstone.formatError(), is("message has no value (a tombstone)"));
    assertThat(tombstone.payload(), is(""));
    assertThat(tombstone.source(), is("events/1@3"));
    RawRecord empty = parser.parse("events/1@4", new byte[0]);
    assertThat(empty.formatError(), is("message value is empty"));
    assertThat(empty.blank(), is(false));
  }

  @Test
  void aValueThatIsNotUtf8IsMalformedWithItsBytesReplaced() {
    byte[] binary = {(byte) 0xff, (byte) 0xfe, '{', '}', (byte) 0xc3};
    RawRecord r = parser.parse("events/0@9", binary);
    assertThat(r.formatError(), is("message value is not UTF-8 (5 bytes); the payload has its"
        + " invalid bytes replaced by U+FFFD"));
    assertThat(r.payload(), is("\uFFFD\uFFFD{}\uFFFD"));
    assertThat(r.payloadLength(), is(-1L));
  }

  @Test
  void aWrittenReplacementCharacterIsValidUtf8() {
    RawRecord r = parse("{\"user_id\":\"\uFFFD\"}");
    assertThat(r.formatError(), nullValue());
    assertThat(r.fields().get("user_id"), is("\uFFFD"));
  }

  @Test
  void aValueOverTheRecordLimitKeepsItsStartAndLength() {
    int length = CsvRecordReader.MAX_RECORD_CHARS + 1;
    String value = "{\"a\":\"" + "x".repeat(length - 8) + "\"}";
    RawRecord r = parse(value);
    assertThat(r.formatError(), is("message value of " + length + " characters is over the limit"
        + " of 1048576; the payload keeps its first 65536"));
    assertThat(r.payload(), is(value.substring(0, CsvRecordReader.MAX_PAYLOAD_CHARS)));
    assertThat(r.payloadLength(), is((long) length));
    assertThat("at the limit it parses",
        parse("{\"a\":\"" + "x".repeat(length - 9) + "\"}").formatError(), nullValue());
  }

  @Test
  void theDeserializerLeavesTheSourceForLaterAndWithSourceKeepsEverythingElse() {
    byte[] json = "{\"user_id\":\"u1\",\"tags\":{\"k\":1}}".getBytes(StandardCharsets.UTF_8);
    RawRecord pending = parser.deserialize("events", json);
    assertThat(pending.source(), is(KafkaMessageParser.PENDING_SOURCE));
    RawRecord placed = KafkaMessageParser.withSource(pending, "events/2@11");
    assertThat(placed, equalTo(parser.parse("events/2@11", json)));
    assertThat(placed.nested(), equalTo(Set.of("tags")));

    String longValue = "y".repeat(CsvRecordReader.MAX_RECORD_CHARS + 5);
    RawRecord tooLong = KafkaMessageParser.withSource(
        parser.deserialize("events", longValue.getBytes(StandardCharsets.UTF_8)), "events/0@1");
    assertThat(tooLong,
        equalTo(parser.parse("events/0@1", longValue.getBytes(StandardCharsets.UTF_8))));
    assertThat(tooLong.payloadLength(), is((long) longValue.length()));
  }

  @Test
  void keysAreNotRead() {
    try (KafkaMessageParser.NoKey noKey = new KafkaMessageParser.NoKey()) {
      assertThat(noKey.deserialize("events", "u1".getBytes(StandardCharsets.UTF_8)), nullValue());
      assertThat(noKey.deserialize("events", null), nullValue());
    }
  }

  @Test
  void aBinaryValueNamesItsLengthInBytes() {
    RawRecord r = parser.parse("t/0@0", new byte[] {(byte) 0x80});
    assertThat(r.formatError(), containsString("not UTF-8 (1 byte);"));
  }
}
