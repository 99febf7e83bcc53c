package dev.featurebeam.spec;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a feature spec (YAML) into a {@link FeatureSpec}, refusing anything the spec format does not allow
 * with a {@link SpecException} that names the key, field or feature at fault.
 */
public final class SpecParser {
  private static final Pattern NAME = Pattern.compile("[a-z0-9_]+");
  private static final Pattern COLUMN = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern WINDOW = Pattern.compile("([0-9]+)([dhm])");
  private static final Pattern CHECK =
      Pattern.compile("\\s*([A-Za-z_][A-Za-z0-9_]*|-?[0-9.]+)\\s*(<=|>=|==|!=|<|>)\\s*([A-Za-z_][A-Za-z0-9_]*|-?[0-9.]+)\\s*");
  private static final Set<String> TOP_KEYS =
      Set.of("feature_set", "version", "entity", "timestamp", "dedup_key", "dedup_within", "as_of",
          "source_timezone", "source_schema", "features", "quality");
  private static final Set<String> FIELD_KEYS =
      Set.of("type", "required", "min", "max", "case", "default", "format");
  private static final Set<String> FEATURE_KEYS = Set.of("name", "agg", "field", "window", "where");

  // Decimals stay as written ("12.50", "1736071200.5"), not a double's rendering such as
  // "1.7360712005E9": where values and defaults are parsed from their text.
  private static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory())
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);

  private SpecParser() {}

  public static FeatureSpec parse(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new SpecException("cannot read spec " + file + ": " + e.getMessage(), e);
    }
    try {
      return parse(bytes);
    } catch (SpecException e) {
      throw new SpecException("spec " + file + ": " + e.getMessage(), e);
    }
  }

  public static FeatureSpec parse(String yaml) {
    return parse(yaml.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  public static FeatureSpec parse(byte[] bytes) {
    JsonNode root;
    try {
      root = YAML.readTree(bytes);
    } catch (JsonParseException e) {
      throw new SpecException(
          "not valid YAML at line " + e.getLocation().getLineNr() + ": " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new SpecException("not valid YAML: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new SpecException("the spec must be a YAML mapping with feature_set, entity, ...");
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!TOP_KEYS.contains(key)) {
        throw new SpecException("unknown key '" + key + "' (expected one of " + sorted(TOP_KEYS) + ")");
      }
    }
    String featureSet = requiredText(root, "feature_set");
    if (!NAME.matcher(featureSet).matches()) {
      throw new SpecException("feature_set '" + featureSet + "' must match [a-z0-9_]+");
    }
    JsonNode versionNode = root.get("version");
    if (versionNode == null || !versionNode.canConvertToInt() || !versionNode.isIntegralNumber()
        || versionNode.asInt() < 1) {
      throw new SpecException("version must be a positive integer");
    }
    int version = versionNode.asInt();

    String zoneText = root.has("source_timezone") ? root.get("source_timezone").asText() : "UTC";
    ZoneId zone;
    try {
      zone = ZoneId.of(zoneText);
    } catch (DateTimeException e) {
      throw new SpecException("source_timezone '" + zoneText + "' is not a time zone");
    }

    List<FieldSpec> fields = parseFields(root.get("source_schema"), zone);
    Map<String, FieldSpec> byName = new LinkedHashMap<>();
    for (FieldSpec f : fields) {
      byName.put(f.name(), f);
    }

    String entity = requiredText(root, "entity");
    FieldSpec entityField = byName.get(entity);
    if (entityField == null || entityField.type() != FieldType.STRING) {
      throw new SpecException("entity '" + entity + "' must be a string field of source_schema");
    }
    if (!entityField.required()) {
      // An event without its entity cannot belong to any row; make that a quarantine reason.
      fields.set(fields.indexOf(entityField),
          FieldSpec.of(entity, FieldType.STRING, true, null, null, entityField.caseMode(), null));
    }
    String timestamp = requiredText(root, "timestamp");
    FieldSpec tsField = byName.get(timestamp);
    if (tsField == null || tsField.type() != FieldType.TIMESTAMP) {
      throw new SpecException("timestamp '" + timestamp + "' must be a timestamp field of source_schema");
    }
    if (!tsField.required()) {
      fields.set(fields.indexOf(tsField), FieldSpec.of(timestamp, FieldType.TIMESTAMP, true,
          tsField.min(), tsField.max(), null, null, tsField.timestampFormat()));
    }
    String dedupKey = null;
    if (root.has("dedup_key")) {
      dedupKey = root.get("dedup_key").asText();
      if (!byName.containsKey(dedupKey)) {
        throw new SpecException("dedup_key '" + dedupKey + "' is not a field of source_schema");
      }
    }
    Long dedupWithin = null;
    if (root.has("dedup_within")) {
      if (dedupKey == null) {
        throw new SpecException("dedup_within needs a dedup_key: it bounds how far apart copies of"
            + " one event can be");
      }
      dedupWithin = parseWindow(root.get("dedup_within").asText(), "dedup_within");
    }
    AsOf asOf = AsOf.END_OF_DAY;
    if (root.has("as_of")) {
      asOf = AsOf.fromYaml(root.get("as_of").asText());
      if (asOf == null) {
        throw new SpecException(
            "as_of '" + root.get("as_of").asText() + "' must be end_of_day or start_of_day");
      }
    }

    List<FeatureDef> features = parseFeatures(root.get("features"), byName, entity, zone);
    List<String> columns = new ArrayList<>();
    columns.add(entity);
    columns.add(FeatureSpec.AS_OF_DATE);
    for (FeatureDef f : features) {
      columns.add(f.name());
    }
    List<QualityCheck> quality = parseQuality(root.get("quality"), columns);
    return FeatureSpec.of(featureSet, version, entity, timestamp, dedupKey, dedupWithin, asOf,
        zone.getId(),
        fields, features, quality, sha256(bytes));
  }

  private static List<FieldSpec> parseFields(JsonNode node, ZoneId zone) {
    if (node == null || !node.isObject() || node.size() == 0) {
      throw new SpecException("source_schema must map each field name to {type: ...}");
    }
    List<FieldSpec> fields = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String name = e.getKey();
      String where = "source_schema field '" + name + "'";
      if (!COLUMN.matcher(name).matches()) {
        throw new SpecException(where + ": name must match [A-Za-z_][A-Za-z0-9_]*");
      }
      JsonNode def = e.getValue();
      if (!def.isObject()) {
        throw new SpecException(where + ": must be a mapping such as {type: string}");
      }
      checkKeys(def, FIELD_KEYS, where);
      JsonNode typeNode = def.get("type");
      FieldType type = typeNode == null ? null : FieldType.fromYaml(typeNode.asText());
      if (type == null) {
        throw new SpecException(where + ": type must be one of string, long, double, boolean, timestamp");
      }
      boolean required = false;
      if (def.has("required")) {
        if (!def.get("required").isBoolean()) {
          throw new SpecException(where + ": required must be true or false");
        }
        required = def.get("required").asBoolean();
      }
      FieldSpec.TimestampFormat format = FieldSpec.TimestampFormat.EPOCH_MILLIS;
      if (def.has("format")) {
        if (type != FieldType.TIMESTAMP) {
          throw new SpecException(where + ": format applies only to timestamp fields");
        }
        format = FieldSpec.TimestampFormat.fromYaml(def.get("format").asText());
        if (format == null) {
          throw new SpecException(where + ": format '" + def.get("format").asText()
              + "' must be epoch_millis or epoch_seconds");
        }
      }
      Double min = bound(def, "min", type, zone, where);
      Double max = bound(def, "max", type, zone, where);
      if (min != null && max != null && min > max) {
        throw new SpecException(where + ": min is greater than max");
      }
      FieldSpec.Case caseMode = null;
      if (def.has("case")) {
        String c = def.get("case").asText();
        if (type != FieldType.STRING || !(c.equals("lower") || c.equals("upper"))) {
          throw new SpecException(where + ": case must be lower or upper, on a string field");
        }
        caseMode = c.equals("lower") ? FieldSpec.Case.LOWER : FieldSpec.Case.UPPER;
      }
      Object defaultValue = null;
      if (def.has("default")) {
        if (required) {
          throw new SpecException(where + ": a required field cannot have a default");
        }
        JsonNode d = def.get("default");
        try {
          defaultValue = ValueParser.parse(type, d.asText(), java.time.ZoneOffset.UTC, format);
        } catch (ValueParser.BadValueException bad) {
          throw new SpecException(where + ": default '" + d.asText() + "' is not a " + type.yamlName());
        }
        if (defaultValue instanceof String && caseMode != null) {
          defaultValue = applyCase((String) defaultValue, caseMode);
        }
        if (defaultValue instanceof Number) {
          double v = ((Number) defaultValue).doubleValue();
          if ((min != null && v < min) || (max != null && v > max)) {
            throw new SpecException(where + ": default " + d.asText() + " is outside [min, max]");
          }
        }
      }
      fields.add(FieldSpec.of(name, type, required, min, max, caseMode, defaultValue, format));
    }
    return fields;
  }

  private static Double bound(JsonNode def, String key, FieldType type, ZoneId zone, String where) {
    if (!def.has(key)) {
      return null;
    }
    if (type == FieldType.TIMESTAMP) {
      // Text only: a bare number's unit would hang on the field's format. Epoch millis of the
      // years 1900-2262 are well below 2^53, so the double holds them exactly.
      JsonNode v = def.get(key);
      if (!v.isTextual() || v.asText().strip().matches("[+-]?[0-9.]+")) {
        throw new SpecException(where + ": " + key
            + " must be an ISO-8601 timestamp or a date, such as 2020-01-01");
      }
      try {
        return (double) ValueParser.parseTimestampMillis(v.asText(), zone);
      } catch (ValueParser.BadValueException e) {
        throw new SpecException(where + ": " + key + " is " + e.getMessage());
      }
    }
    if (!type.isNumeric()) {
      throw new SpecException(where + ": " + key + " applies only to long, double and timestamp fields");
    }
    if (!def.get(key).isNumber()) {
      throw new SpecException(where + ": " + key + " must be a number");
    }
    return def.get(key).asDouble();
  }

  private static List<FeatureDef> parseFeatures(
      JsonNode node, Map<String, FieldSpec> fields, String entity, ZoneId zone) {
    if (node == null || !node.isArray() || node.size() == 0) {
      throw new SpecException("features must be a non-empty list");
    }
    List<FeatureDef> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    int index = 0;
    for (JsonNode f : (ArrayNode) node) {
      index++;
      String where = "feature #" + index;
      if (!f.isObject()) {
        throw new SpecException(where + ": must be a mapping such as {name: ..., agg: ...}");
      }
      String name = f.has("name") ? f.get("name").asText() : null;
      if (name == null || !COLUMN.matcher(name).matches()) {
        throw new SpecException(where + ": name is missing or not a valid column name");
      }
      where = "feature '" + name + "'";
      checkKeys(f, FEATURE_KEYS, where);
      if (!names.add(name)) {
        throw new SpecException(where + ": duplicate feature name");
      }
      if (name.equals(entity) || name.equals(FeatureSpec.AS_OF_DATE)) {
        throw new SpecException(where + ": name clashes with the output column '" + name + "'");
      }
      String aggText = f.has("agg") ? f.get("agg").asText() : "";
      Aggregation agg = Aggregation.fromYaml(aggText);
      if (agg == null) {
        throw new SpecException(where + ": unknown aggregation '" + aggText + "' (expected one of "
            + "count, sum, avg, min, max, count_distinct, last, exists, days_since_last)");
      }
      String field = f.has("field") ? f.get("field").asText() : null;
      if (agg.needsField() && field == null) {
        throw new SpecException(where + ": " + aggText + " needs a field");
      }
      if (!agg.needsField() && field != null) {
        throw new SpecException(where + ": " + aggText + " takes no field");
      }
      if (field != null) {
        FieldSpec fs = fields.get(field);
        if (fs == null) {
          throw new SpecException(where + ": unknown field '" + field + "'");
        }
        if ((agg == Aggregation.SUM || agg == Aggregation.AVG) && !fs.type().isNumeric()) {
          throw new SpecException(where + ": " + aggText + " needs a long or double field, '"
              + field + "' is " + fs.type().yamlName());
        }
        if ((agg == Aggregation.MIN || agg == Aggregation.MAX) && fs.type() == FieldType.BOOLEAN) {
          throw new SpecException(where + ": " + aggText + " cannot read the boolean field '" + field + "'");
        }
      }
      Long windowMillis = null;
      String windowText = null;
      if (f.has("window")) {
        if (agg.refusesWindow()) {
          throw new SpecException(where + ": " + aggText + " takes no window (it always reads the whole history)");
        }
        windowText = f.get("window").asText();
        windowMillis = parseWindow(windowText, where);
      } else if (!agg.allowsUnbounded()) {
        throw new SpecException(where + ": " + aggText + " needs a window such as 7d, 24h or 90m");
      }
      Map<String, List<Object>> whereMap = parseWhere(f.get("where"), fields, zone, where);
      out.add(FeatureDef.of(name, agg, field, windowMillis, windowText, whereMap));
    }
    return out;
  }

  static long parseWindow(String text, String where) {
    Matcher m = WINDOW.matcher(text);
    if (!m.matches()) {
      throw new SpecException(where + ": window '" + text + "' must be a positive duration such as 7d, 24h or 90m");
    }
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      throw new SpecException(where + ": window '" + text + "' is too long");
    }
    if (n <= 0) {
      throw new SpecException(where + ": window '" + text + "' must be positive");
    }
    long unit = m.group(2).equals("d") ? 86_400_000L : m.group(2).equals("h") ? 3_600_000L : 60_000L;
    if (n > 36_500L * 86_400_000L / unit) {
      throw new SpecException(where + ": window '" + text + "' is longer than 100 years");
    }
    return n * unit;
  }

  private static Map<String, List<Object>> parseWhere(
      JsonNode node, Map<String, FieldSpec> fields, ZoneId zone, String where) {
    Map<String, List<Object>> out = new LinkedHashMap<>();
    if (node == null) {
      return out;
    }
    if (!node.isObject()) {
      throw new SpecException(where + ": where must map fields to values");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      FieldSpec fs = fields.get(e.getKey());
      if (fs == null) {
        throw new SpecException(where + ": where names unknown field '" + e.getKey() + "'");
      }
      List<Object> values = new ArrayList<>();
      JsonNode v = e.getValue();
      Iterable<JsonNode> items = v.isArray() ? v : List.of(v);
      for (JsonNode item : items) {
        if (!item.isValueNode() || item.isNull()) {
          throw new SpecException(where + ": where value for '" + e.getKey() + "' must be a scalar or a list of scalars");
        }
        try {
          Object value = ValueParser.parse(fs.type(), item.asText(), zone, fs.timestampFormat());
          values.add(fs.caseMode() != null ? applyCase((String) value, fs.caseMode()) : value);
        } catch (ValueParser.BadValueException ex) {
          throw new SpecException(where + ": where value '" + item.asText() + "' for '"
              + e.getKey() + "' is not a " + fs.type().yamlName());
        }
      }
      if (values.isEmpty()) {
        throw new SpecException(where + ": where list for '" + e.getKey() + "' is empty");
      }
      out.put(e.getKey(), List.copyOf(values));
    }
    return out;
  }

  private static List<QualityCheck> parseQuality(JsonNode node, List<String> columns) {
    List<QualityCheck> out = new ArrayList<>();
    if (node == null) {
      return out;
    }
    if (!node.isArray()) {
      throw new SpecException("quality must be a list of checks");
    }
    int index = 0;
    for (JsonNode q : node) {
      index++;
      String where = "quality check #" + index;
      if (!q.isObject()) {
        throw new SpecException(where + ": must be a mapping");
      }
      if (q.has("max_row_count_change")) {
        checkKeys(q, Set.of("max_row_count_change"), where);
        JsonNode v = q.get("max_row_count_change");
        if (!v.isNumber() || v.asDouble() < 0) {
          throw new SpecException(where + ": max_row_count_change must be a fraction >= 0");
        }
        out.add(QualityCheck.maxRowCountChange(v.asDouble()));
      } else if (q.has("check")) {
        checkKeys(q, Set.of("check"), where);
        String text = q.get("check").asText();
        Matcher m = CHECK.matcher(text);
        if (!m.matches()) {
          throw new SpecException(where + ": check '" + text + "' must read 'a <= b' with columns or numbers and one of <, <=, >, >=, ==, !=");
        }
        for (String side : List.of(m.group(1), m.group(3))) {
          if (!isNumber(side) && !columns.contains(side)) {
            throw new SpecException(where + ": check '" + text + "' names unknown column '" + side + "'");
          }
        }
        out.add(QualityCheck.compare(m.group(1), m.group(2), m.group(3)));
      } else if (q.has("column")) {
        String column = q.get("column").asText();
        if (!columns.contains(column)) {
          throw new SpecException(where + ": unknown column '" + column + "'");
        }
        if (q.has("between")) {
          checkKeys(q, Set.of("column", "between"), where);
          JsonNode b = q.get("between");
          if (!b.isArray() || b.size() != 2 || !b.get(0).isNumber() || !b.get(1).isNumber()) {
            throw new SpecException(where + ": between must be [low, high]");
          }
          if (b.get(0).asDouble() > b.get(1).asDouble()) {
            throw new SpecException(where + ": between [" + b.get(0).asText() + ", "
                + b.get(1).asText() + "] has its low bound above its high bound");
          }
          out.add(QualityCheck.between(column, b.get(0).asDouble(), b.get(1).asDouble()));
        } else if (q.has("not_null")) {
          checkKeys(q, Set.of("column", "not_null"), where);
          if (!q.get("not_null").asBoolean(false)) {
            throw new SpecException(where + ": not_null must be true");
          }
          out.add(QualityCheck.notNull(column));
        } else {
          throw new SpecException(where + ": a column check needs between: [low, high] or not_null: true");
        }
      } else {
        throw new SpecException(where + ": expected column:, check: or max_row_count_change:");
      }
    }
    return out;
  }

  private static boolean isNumber(String s) {
    try {
      Double.parseDouble(s);
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static void checkKeys(JsonNode node, Set<String> allowed, String where) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!allowed.contains(key)) {
        throw new SpecException(where + ": unknown key '" + key + "' (expected " + sorted(allowed) + ")");
      }
    }
  }

  private static String requiredText(JsonNode root, String key) {
    JsonNode n = root.get(key);
    if (n == null || !n.isTextual() || n.asText().isEmpty()) {
      throw new SpecException(key + " is required");
    }
    return n.asText();
  }

  private static List<String> sorted(Set<String> s) {
    List<String> l = new ArrayList<>(s);
    java.util.Collections.sort(l);
    return l;
  }

  /** The clean step's casing, shared so that where values are cased like the data. */
  public static String applyCase(String value, FieldSpec.Case mode) {
    return mode == FieldSpec.Case.LOWER
        ? value.toLowerCase(java.util.Locale.ROOT)
        : value.toUpperCase(java.util.Locale.ROOT);
  }

  static String sha256(byte[] bytes) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      StringBuilder sb = new StringBuilder();
      for (byte b : md.digest(bytes)) {
        sb.append(String.format("%02x", b));
      }
      return sb.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

}
