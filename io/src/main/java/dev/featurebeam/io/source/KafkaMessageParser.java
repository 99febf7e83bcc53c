package dev.featurebeam.io.source;

import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.model.RawRecord;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import javax.annotation.Nullable;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Turns one Kafka message value into a {@link RawRecord} while KafkaIO's reader delivers it, so
 * that the payload is parsed once: the timestamp policy reads the event time from the record's
 * fields and {@link KafkaSource} only gives the record its source. The value is one JSON object,
 * parsed as a JSON line is ({@link JsonLineParser}), so validation treats both alike. Every other
 * value is a malformed record, never an error: a tombstone (no value), an empty value, a value that
 * is not UTF-8 (its payload decoded with replacement characters), one longer than {@link
 * CsvRecordReader#MAX_RECORD_CHARS}, and whatever the JSON-line parser refuses.
 *
 * <p>Public, with a no-argument constructor, because KafkaIO instantiates its deserializers by
 * class. One instance serves one reader, from one thread.
 */
public final class KafkaMessageParser implements Deserializer<RawRecord> {
  /**
   * The source of a record until {@link KafkaSource} knows its partition and offset: a
   * deserializer sees only the topic and the bytes.
   */
  static final String PENDING_SOURCE = "";

  private final CharsetDecoder strictUtf8 = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT)
      .onUnmappableCharacter(CodingErrorAction.REPORT);

  @Override
  public RawRecord deserialize(String topic, @Nullable byte[] value) {
    return parse(PENDING_SOURCE, value);
  }

  RawRecord parse(String source, @Nullable byte[] value) {
    if (value == null) {
      return RawRecord.malformed(source, "", "message has no value (a tombstone)");
    }
    if (value.length == 0) {
      return RawRecord.malformed(source, "", "message value is empty");
    }
    String text = new String(value, StandardCharsets.UTF_8);
    // Decoding replaces each invalid sequence with U+FFFD, so text without one was valid UTF-8;
    // only text with one is decoded again, strictly, to tell a written U+FFFD from a replaced one.
    if (text.indexOf('\uFFFD') >= 0 && !isUtf8(value)) {
      return RawRecord.malformed(source, QuarantineRecord.keptPart(text),
          "message value is not UTF-8 (" + value.length + (value.length == 1 ? " byte" : " bytes")
              + "); the payload has its invalid bytes replaced by U+FFFD",
          text.length() > CsvRecordReader.MAX_PAYLOAD_CHARS ? text.length() : -1);
    }
    int max = CsvRecordReader.MAX_RECORD_CHARS;
    if (text.length() > max) {
      return RawRecord.malformed(source, QuarantineRecord.keptPart(text),
          "message value of " + text.length() + " characters is over the limit of " + max
              + "; the payload keeps its first " + CsvRecordReader.MAX_PAYLOAD_CHARS,
          text.length());
    }
    return JsonLineParser.parse(source, text);
  }

  private boolean isUtf8(byte[] value) {
    try {
      strictUtf8.decode(ByteBuffer.wrap(value));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  /**
   * Reads no key: keys carry nothing FeatureBeam reads. Not Kafka's {@code VoidDeserializer},
   * which fails on a message that has one.
   */
  public static final class NoKey implements Deserializer<Void> {
    @Override
    public @Nullable Void deserialize(String topic, @Nullable byte[] key) {
      return null;
    }
  }

  /** {@code record}, parsed with {@link #PENDING_SOURCE}, with its source. */
  static RawRecord withSource(RawRecord record, String source) {
    if (record.formatError() != null) {
      return RawRecord.malformed(
          source, record.payload(), record.formatError(), record.payloadLength());
    }
    return RawRecord.of(source, record.payload(), record.fields(), record.nested());
  }
}
