package dev.featurebeam.io.sink;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.featurebeam.model.CheckOutcome;
import dev.featurebeam.spec.AsOf;
import dev.featurebeam.spec.FeatureSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.apache.avro.Schema;

/**
 * The {@code _MANIFEST.json} of a published partition. Keys come in a fixed order and nothing in it
 * depends on the wall clock, the host or the run, so a rerun writes the same bytes:
 *
 * <pre>{@code
 * {
 *   "feature_set": "user_features",
 *   "version": 1,
 *   "as_of_date": "2025-01-05",
 *   "as_of_instant": "2025-01-06T00:00:00Z",
 *   "row_count": 3,
 *   "files": [ {"name": "part-00000-of-00001.parquet", "rows": 3, "sha256": "..."} ],
 *   "schema": [ {"name": "user_id", "type": "string"}, {"name": "as_of_date", "type": "date"}, ... ],
 *   "spec_sha256": "...",
 *   "lineage": { ...the driver's JSON object... },
 *   "quality": [ {"check": "...", "passed": true, "detail": "..."} ],
 *   "tool_version": "0.1.0"
 * }
 * }</pre>
 */
final class Manifest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Manifest() {}

  /** Parses the driver's lineage; it must be a JSON object (null or blank means empty). */
  static ObjectNode parseLineage(String lineageJson) {
    if (lineageJson == null || lineageJson.isBlank()) {
      return JSON.createObjectNode();
    }
    JsonNode node;
    try {
      node = JSON.readTree(lineageJson);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("lineage is not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (!node.isObject()) {
      throw new IllegalArgumentException("lineage must be a JSON object, got: " + lineageJson);
    }
    return (ObjectNode) node;
  }

  static byte[] render(
      FeatureSpec spec,
      long asOfEpochDay,
      List<ShardFile> files,
      Schema avroSchema,
      String lineageJson,
      List<CheckOutcome> checks,
      String toolVersion) {
    ObjectNode m = JSON.createObjectNode();
    m.put("feature_set", spec.featureSet());
    m.put("version", spec.version());
    m.put("as_of_date", AsOf.utcDate(asOfEpochDay));
    m.put(
        "as_of_instant",
        Instant.ofEpochMilli(spec.asOf().instantOfEpochDay(asOfEpochDay)).toString());
    m.put("row_count", files.stream().mapToLong(ShardFile::rows).sum());
    ArrayNode fileList = m.putArray("files");
    for (ShardFile f : files) {
      fileList.addObject().put("name", f.name()).put("rows", f.rows()).put("sha256", f.sha256());
    }
    ArrayNode schema = m.putArray("schema");
    for (Schema.Field f : avroSchema.getFields()) {
      schema.addObject().put("name", f.name()).put("type", OfflineSchema.typeName(f.schema()));
    }
    m.put("spec_sha256", spec.sha256());
    m.set("lineage", parseLineage(lineageJson));
    ArrayNode quality = m.putArray("quality");
    for (CheckOutcome c : checks) {
      quality
          .addObject()
          .put("check", c.check())
          .put("passed", c.passed())
          .put("detail", c.detail());
    }
    m.put("tool_version", toolVersion);
    try {
      return (JSON.writer(new StablePrettyPrinter()).writeValueAsString(m) + "\n")
          .getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render manifest", e);
    }
  }

  /**
   * Jackson's pretty printer, but with "\n" line ends on every platform (the default uses the
   * system's line separator) and {@code "key": value} without a space before the colon.
   */
  private static final class StablePrettyPrinter extends DefaultPrettyPrinter {
    private static final DefaultIndenter INDENTER = new DefaultIndenter("  ", "\n");

    StablePrettyPrinter() {
      indentObjectsWith(INDENTER);
      indentArraysWith(INDENTER);
    }

    @Override
    public StablePrettyPrinter createInstance() {
      return new StablePrettyPrinter();
    }

    @Override
    public void writeObjectFieldValueSeparator(JsonGenerator g) throws IOException {
      g.writeRaw(": ");
    }
  }
}
