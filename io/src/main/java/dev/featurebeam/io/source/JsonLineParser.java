package dev.featurebeam.io.source;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.featurebeam.model.RawRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Turns one JSON line into a {@link RawRecord}, as {@link FileSource} reads a {@code .jsonl} line
 * and {@link KafkaSource} a message: a line that is not one JSON object is a malformed record.
 * Public for records a pipeline makes itself, e.g. in a test:
 *
 * <pre>{@code
 * p.apply(Create.of(JsonLineParser.parse("events.jsonl:1", "{\"user_id\":\"u1\"}")));
 * }</pre>
 *
 * <p>It does not bound a line's length: {@link FileSource} cuts over-long lines before parsing.
 */
public final class JsonLineParser {
  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private JsonLineParser() {}

  /**
   * The record at {@code source} (where it came from, e.g. {@code events.jsonl:7}) whose payload is
   * {@code line}; never throws for bad JSON.
   */
  public static RawRecord parse(String source, String line) {
    // Stream the tokens rather than build a tree, so that numbers keep their text as written
    // ("12.50" stays "12.50"); only nested values go through a tree, to print them as JSON, and
    // their names go with the record, as no declared type takes one.
    try (JsonParser p = MAPPER.createParser(line)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return RawRecord.malformed(source, line, "JSON line is not an object");
      }
      Map<String, String> fields = new LinkedHashMap<>();
      Set<String> nested = null;
      for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
        String name = p.getCurrentName();
        JsonToken value = p.nextToken();
        if (value == JsonToken.VALUE_NULL) {
          fields.put(name, null);
        } else if (value == JsonToken.START_OBJECT || value == JsonToken.START_ARRAY) {
          fields.put(name, MAPPER.writeValueAsString(p.readValueAsTree()));
          if (nested == null) {
            nested = new HashSet<>();
          }
          nested.add(name);
        } else {
          fields.put(name, p.getText());
        }
      }
      if (p.nextToken() != null) {
        return RawRecord.malformed(source, line, "JSON line has content after its object");
      }
      return nested == null
          ? RawRecord.of(source, line, fields)
          : RawRecord.of(source, line, fields, nested);
    } catch (JsonProcessingException e) {
      return RawRecord.malformed(source, line, "invalid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(e); // reading a String cannot fail otherwise
    }
  }
}
