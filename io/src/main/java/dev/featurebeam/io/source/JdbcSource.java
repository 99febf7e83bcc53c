package dev.featurebeam.io.source;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldSpec;
import dev.featurebeam.spec.FieldType;
import java.io.IOException;
import java.io.Serializable;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.JDBCType;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.jdbc.JdbcIO;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;

/**
 * Reads a JDBC relation ({@link JdbcRelation}) as {@link RawRecord}s with Beam's {@link
 * JdbcIO#readAll}: the run's time range [from, until) is cut into {@code partitions} equal ranges
 * of the timestamp column, each read by its own query, so that the workers read in parallel and
 * the database reads only the range (rows whose timestamp is NULL are read too, by the first
 * range, so that they are quarantined, not silently left out). A timestamp column of text or
 * numbers cannot be compared as time in SQL: it is read whole, in one query.
 *
 * <p>A value of a native type that carries its field's declared type goes to validation as that
 * type's value, without text ({@link RawRecord#values()}): a timestamp with a zone as its instant,
 * one without (and a date, at its midnight) read in the spec's source_timezone, integers as longs,
 * numerics and floats as doubles, booleans. Any other value (a text column above all) becomes the
 * text a CSV field would hold for it and is parsed exactly as a file's is. Either way a row gives
 * the values the same row in a file gives; SQL NULL is a missing value. The payload kept for the
 * quarantine is the row as a JSON object of the values' text.
 */
public final class JdbcSource extends PTransform<PBegin, PCollection<RawRecord>> {
  private static final DateTimeFormatter LOCAL = DateTimeFormatter.ISO_LOCAL_DATE_TIME;

  private final JdbcIO.DataSourceConfiguration database;
  private final String describedUrl;
  private final JdbcRelation relation;
  private final String from;
  /** The database's identifier quote, e.g. " or `; null or blank when it has none. */
  private final @Nullable String quote;
  private final List<JdbcContract.Column> columns;
  /** The declared field each of {@link #columns} carries, in the same order. */
  private final List<FieldSpec> fields;
  private final JdbcContract.Column timestamp;
  private final ZoneId zone;
  private final long fromMillis;
  private final long untilMillis;
  private final int partitions;

  private JdbcSource(JdbcIO.DataSourceConfiguration database, String describedUrl,
      JdbcRelation relation, String from, String quote, List<JdbcContract.Column> columns,
      List<FieldSpec> fields, JdbcContract.Column timestamp, ZoneId zone, long fromMillis,
      long untilMillis, int partitions) {
    this.database = database;
    this.describedUrl = describedUrl;
    this.relation = relation;
    this.from = from;
    this.quote = quote;
    this.columns = columns;
    this.fields = fields;
    this.timestamp = timestamp;
    this.zone = zone;
    this.fromMillis = fromMillis;
    this.untilMillis = untilMillis;
    this.partitions = partitions;
  }

  /**
   * Checks {@code relation}'s columns against {@code spec} ({@link JdbcContract}, no row read)
   * and returns the read of the columns it matched, the whole relation until {@link
   * #withTimeRange} narrows it.
   *
   * @throws SchemaContractException when the columns break the spec's contract
   * @throws SQLException when the database cannot be reached or described (its message holds
   *     no password: {@link JdbcTarget#connect})
   */
  public static JdbcSource checked(JdbcTarget target, JdbcRelation relation, FeatureSpec spec)
      throws SQLException {
    try (Connection connection = target.connect()) {
      DatabaseMetaData meta = connection.getMetaData();
      Map<String, JdbcContract.Column> matched =
          JdbcContract.check(spec, JdbcContract.describe(connection, relation), relation);
      List<FieldSpec> fields = new ArrayList<>();
      for (String name : matched.keySet()) {
        fields.add(spec.fields().get(spec.fieldIndex(name)));
      }
      return read(target.configuration(), target.displayUrl(), relation, relation.from(meta),
          meta.getIdentifierQuoteString(), new ArrayList<>(matched.values()), fields,
          matched.get(spec.timestamp()), ZoneId.of(spec.sourceTimezone()));
    }
  }

  /**
   * Reads {@code columns} of {@code relation}, whose FROM text for this database is {@code from}
   * ({@link JdbcRelation#from}) and whose identifier quote is {@code quote}; {@code
   * describedUrl} is the URL without credentials, for display.
   */
  private static JdbcSource read(JdbcIO.DataSourceConfiguration database, String describedUrl,
      JdbcRelation relation, String from, @Nullable String quote,
      List<JdbcContract.Column> columns, List<FieldSpec> fields, JdbcContract.Column timestamp,
      ZoneId zone) {
    checkNotNull(database, "a database is needed");
    checkArgument(columns.contains(timestamp), "the timestamp column must be read");
    checkArgument(columns.size() == fields.size(), "a declared field per column");
    return new JdbcSource(database, describedUrl, relation, from, quote, List.copyOf(columns),
        List.copyOf(fields), timestamp, zone, Long.MIN_VALUE, Long.MAX_VALUE, 1);
  }

  /** Reads only rows with a timestamp in [fromMillis, untilMillis) (and NULL ones). */
  public JdbcSource withTimeRange(long fromMillis, long untilMillis) {
    checkArgument(fromMillis < untilMillis, "an empty time range");
    return new JdbcSource(database, describedUrl, relation, from, quote, columns, fields,
        timestamp, zone, fromMillis, untilMillis, partitions);
  }

  /**
   * Cuts the time range into {@code n} equal queries; without a lower bound they start at the
   * relation's earliest time before the end.
   */
  public JdbcSource withPartitions(int n) {
    checkArgument(n >= 1, "--jdbcPartitions must be at least 1");
    return new JdbcSource(database, describedUrl, relation, from, quote, columns, fields,
        timestamp, zone, fromMillis, untilMillis, n);
  }

  /**
   * Whether the range is pushed down: the run has an end and the timestamp column compares as
   * time in SQL.
   */
  public boolean canPushDown() {
    return untilMillis != Long.MAX_VALUE && (timestamp.type() == JDBCType.TIMESTAMP
        || timestamp.type() == JDBCType.TIMESTAMP_WITH_TIMEZONE
        || timestamp.type() == JDBCType.DATE);
  }

  private boolean lowerBounded() {
    return fromMillis != Long.MIN_VALUE;
  }

  /** PostgreSQL's driver reports timestamptz as TIMESTAMP; its type name tells them apart. */
  private static boolean zoned(JdbcContract.Column c) {
    return c.type() == JDBCType.TIMESTAMP_WITH_TIMEZONE
        || c.typeName().equalsIgnoreCase("timestamptz");
  }

  /** The WHERE clause the run sends, with the instants in place of its parameters. */
  public String predicate() {
    if (!canPushDown()) {
      return "";
    }
    List<String> bounds = new ArrayList<>();
    if (lowerBounded()) {
      bounds.add(quoted(timestamp) + " >= " + Instant.ofEpochMilli(fromMillis));
    }
    bounds.add(quoted(timestamp) + " < " + Instant.ofEpochMilli(untilMillis));
    return "(" + String.join(" AND ", bounds) + ") OR " + quoted(timestamp) + " IS NULL";
  }

  /** The query one range reads; its parameters are that range's two ends. */
  String sql(boolean first) {
    StringBuilder select = new StringBuilder("SELECT ");
    for (int i = 0; i < columns.size(); i++) {
      select.append(i == 0 ? "" : ", ").append(quoted(columns.get(i)));
    }
    select.append(" FROM ").append(from);
    if (canPushDown()) {
      String ts = quoted(timestamp);
      select.append(" WHERE (");
      if (!first || lowerBounded()) {
        select.append(ts).append(" >= ? AND ");
      }
      select.append(ts).append(" < ?)");
      if (first) {
        select.append(" OR ").append(ts).append(" IS NULL");
      }
    }
    return select.toString();
  }

  /** Column names come from the database's own metadata, quoted with its own quote. */
  private String quoted(JdbcContract.Column c) {
    return JdbcRelation.quote(c.name(), quote);
  }

  /** One range to read: [fromMillis, untilMillis) and whether it also takes NULL timestamps. */
  record Range(long fromMillis, long untilMillis, boolean first) implements Serializable {}

  /**
   * The ranges, equal in time. Without a lower bound they start at {@code earliest} (the
   * relation's earliest timestamp before the end), and the first stays open below.
   */
  List<Range> ranges(@Nullable Long earliest) {
    if (!canPushDown()) {
      return List.of(new Range(Long.MIN_VALUE, Long.MAX_VALUE, true));
    }
    long lo = lowerBounded() ? fromMillis : earliest == null ? untilMillis - 1 : earliest;
    long hi = untilMillis;
    List<Range> out = new ArrayList<>();
    long step = Math.max(1, (hi - lo + partitions - 1) / partitions);
    for (long start = lo; start < hi; start += step) {
      out.add(new Range(start, Math.min(hi, start + step), out.isEmpty()));
    }
    return out;
  }

  /** The relation's earliest timestamp before the end, asked of the database when it is needed. */
  private @Nullable Long earliest() {
    if (!canPushDown() || lowerBounded() || partitions == 1) {
      return null;
    }
    String ts = quoted(timestamp);
    try (var connection = database.buildDatasource().getConnection();
        PreparedStatement statement = connection.prepareStatement(
            "SELECT MIN(" + ts + ") FROM " + from + " WHERE " + ts + " < ?")) {
      new SetRange(true, zoned(timestamp), false, zone).set(statement, 1, untilMillis);
      try (ResultSet row = statement.executeQuery()) {
        Object min = row.next() ? ToRawRecord.value(row, 1, timestamp) : null;
        return min == null ? null
            : (Long) ToRawRecord.nativeValue(min, FieldType.TIMESTAMP, zone);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the earliest " + timestamp.name() + " of the "
          + relation.describe() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public PCollection<RawRecord> expand(PBegin begin) {
    List<Range> ranges = ranges(earliest());
    PCollection<RawRecord> all = null;
    // Two queries: the first range also reads NULL timestamps. Each is a readAll over its ranges.
    for (boolean first : new boolean[] {true, false}) {
      List<Range> these = ranges.stream().filter(r -> r.first() == first).toList();
      if (these.isEmpty()) {
        continue;
      }
      PCollection<RawRecord> read = begin
          .apply(first ? "FirstRange" : "OtherRanges", Create.of(these))
          // Spread the ranges over the workers: Create hands them all to one.
          .apply(first ? "SpreadFirst" : "SpreadOthers", Reshuffle.viaRandomKey())
          .apply(first ? "ReadFirst" : "ReadOthers", JdbcIO.<Range, RawRecord>readAll()
              .withDataSourceConfiguration(database)
              .withQuery(sql(first))
              .withParameterSetter(new SetRange(canPushDown(), zoned(timestamp),
                  first && !lowerBounded(), zone))
              .withRowMapper(new ToRawRecord(columns, fields, zone, relation.describe()))
              .withCoder(RawRecord.RawRecordCoder.of())
              .withFetchSize(10_000)
              .withOutputParallelization(false));
      all = all == null ? read
          : org.apache.beam.sdk.values.PCollectionList.of(all).and(read)
              .apply("Ranges", org.apache.beam.sdk.transforms.Flatten.pCollections());
    }
    return all;
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("database", describedUrl).withLabel("Database"))
        .add(DisplayData.item("relation", relation.describe()).withLabel("Reads"))
        .add(DisplayData.item("predicate", predicate()).withLabel("Pushed-down predicate"))
        .add(DisplayData.item("partitions", partitions).withLabel("Range queries"));
  }

  /** Sets a range's ends as the timestamp column compares: an instant, or a local time. */
  static final class SetRange implements JdbcIO.PreparedStatementSetter<Range> {
    private final boolean bounded;
    private final boolean zoned;
    private final boolean upperOnly;
    private final ZoneId zone;

    SetRange(boolean bounded, boolean zoned, boolean upperOnly, ZoneId zone) {
      this.bounded = bounded;
      this.zoned = zoned;
      this.upperOnly = upperOnly;
      this.zone = zone;
    }

    @Override
    public void setParameters(Range range, PreparedStatement statement) throws SQLException {
      if (!bounded) {
        return;
      }
      if (upperOnly) {
        set(statement, 1, range.untilMillis());
      } else {
        set(statement, 1, range.fromMillis());
        set(statement, 2, range.untilMillis());
      }
    }

    void set(PreparedStatement statement, int index, long millis) throws SQLException {
      Instant at = Instant.ofEpochMilli(millis);
      if (zoned) {
        statement.setObject(index, OffsetDateTime.ofInstant(at, ZoneOffset.UTC));
      } else {
        // A timestamp without a zone holds local times of the source's zone.
        statement.setObject(index, LocalDateTime.ofInstant(at, zone));
      }
    }
  }

  /**
   * A row as validation takes it: native values where the column's type carries the field's,
   * text (as a CSV field would hold it) for the rest, plus the row as JSON for the quarantine.
   */
  static final class ToRawRecord implements JdbcIO.RowMapper<RawRecord> {
    private static final JsonFactory JSON = new JsonFactory();
    private final List<JdbcContract.Column> columns;
    private final List<FieldSpec> fields;
    private final ZoneId zone;
    private final String source;

    ToRawRecord(List<JdbcContract.Column> columns, List<FieldSpec> fields, ZoneId zone,
        String source) {
      this.columns = columns;
      this.fields = fields;
      this.zone = zone;
      this.source = source;
    }

    @Override
    public RawRecord mapRow(ResultSet row) throws Exception {
      Map<String, String> texts = new LinkedHashMap<>();
      Map<String, Object> values = new LinkedHashMap<>();
      StringWriter payload = new StringWriter();
      try (JsonGenerator json = JSON.createGenerator(payload)) {
        json.writeStartObject();
        for (int i = 0; i < columns.size(); i++) {
          JdbcContract.Column column = columns.get(i);
          FieldSpec field = fields.get(i);
          Object value = value(row, i + 1, column);
          Object typed = value == null ? null : nativeValue(value, field.type(), zone);
          String text = text(value);
          if (typed != null) {
            values.put(field.name(), typed);
          } else {
            texts.put(field.name(), text);
          }
          json.writeStringField(column.name(), text);
        }
        json.writeEndObject();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return values.isEmpty() ? RawRecord.of(source, payload.toString(), texts)
          : RawRecord.typed(source, payload.toString(), texts, values);
    }

    /**
     * The column's value as JDBC gives it for its type: an OffsetDateTime, LocalDateTime,
     * LocalDate, BigDecimal, Long, Double, Boolean, or else its String; null for SQL NULL.
     */
    static @Nullable Object value(ResultSet row, int i, JdbcContract.Column column)
        throws SQLException {
      switch (column.type()) {
        case TIMESTAMP_WITH_TIMEZONE:
          return row.getObject(i, OffsetDateTime.class);
        case TIMESTAMP:
          return zoned(column) ? row.getObject(i, OffsetDateTime.class)
              : row.getObject(i, LocalDateTime.class);
        case DATE:
          return row.getObject(i, LocalDate.class);
        case NUMERIC:
        case DECIMAL:
          return row.getBigDecimal(i);
        case TINYINT:
        case SMALLINT:
        case INTEGER:
        case BIGINT:
          long n = row.getLong(i);
          return row.wasNull() ? null : n;
        case REAL:
        case FLOAT:
        case DOUBLE:
          double x = row.getDouble(i);
          return row.wasNull() ? null : x;
        case BOOLEAN:
        case BIT:
          boolean b = row.getBoolean(i);
          return row.wasNull() ? null : b;
        default:
          return row.getString(i);
      }
    }

    /**
     * {@code value} as the declared {@code type}'s value, computed as the text path would
     * compute it from {@link #text}; null when it takes the text path (any String, an integer or
     * a decimal declared a timestamp, a decimal declared a long).
     */
    static @Nullable Object nativeValue(Object value, FieldType type, ZoneId zone) {
      switch (type) {
        case TIMESTAMP:
          if (value instanceof OffsetDateTime) {
            return ((OffsetDateTime) value).toInstant().toEpochMilli();
          }
          if (value instanceof LocalDateTime) {
            return ((LocalDateTime) value).atZone(zone).toInstant().toEpochMilli();
          }
          if (value instanceof LocalDate) {
            return ((LocalDate) value).atStartOfDay().atZone(zone).toInstant().toEpochMilli();
          }
          return null;
        case LONG:
          return value instanceof Long ? value : null;
        case DOUBLE:
          if (value instanceof Double) {
            return value;
          }
          if (value instanceof BigDecimal) {
            // Correctly rounded, as Double.parseDouble of its plain text is.
            return ((BigDecimal) value).doubleValue();
          }
          return value instanceof Long ? (double) (Long) value : null;
        case BOOLEAN:
          return value instanceof Boolean ? value : null;
        default:
          return null; // text keeps the file path's trimming and emptiness rules
      }
    }

    /** The text a CSV field would hold for {@code value}; null for SQL NULL. */
    static @Nullable String text(@Nullable Object value) {
      if (value == null) {
        return null;
      }
      if (value instanceof OffsetDateTime) {
        return instant((OffsetDateTime) value);
      }
      if (value instanceof LocalDateTime) {
        return LOCAL.format((LocalDateTime) value);
      }
      if (value instanceof LocalDate) {
        return LOCAL.format(((LocalDate) value).atStartOfDay());
      }
      if (value instanceof BigDecimal) {
        return ((BigDecimal) value).toPlainString();
      }
      return value.toString();
    }

    private static @Nullable String instant(@Nullable OffsetDateTime t) {
      return t == null ? null : DateTimeFormatter.ISO_INSTANT.format(t.toInstant());
    }
  }
}
