package dev.featurebeam.pipelines;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Validation;

/** Options of {@code featurebeam batch}; every Beam runner option passes through beside them. */
public interface BatchOptions extends SpecOptions, OutputOptions, RunOptions, ApiSourceOptions {
  @Description("Where events come from: file:PATH or file:GLOB (.csv with a header,"
      + " .jsonl/.json, .parquet; one glob may mix them), or a database's JDBC URL"
      + " (jdbc:postgresql://HOST:PORT/DB, jdbc:mariadb://HOST:PORT/DB, any driver on the class"
      + " path) with --table or --query, or a JSON API's http:// or https:// URL (see the API"
      + " source's options; its pages land under OUT/_landing/ and reruns read them from there).")
  @Validation.Required
  String getSource();

  void setSource(String value);

  @Description("The one as-of date to compute, YYYY-MM-DD. Give either this or --from and --to.")
  String getAsOfDate();

  void setAsOfDate(String value);

  @Description("First as-of date of a backfill, YYYY-MM-DD (inclusive).")
  String getFrom();

  void setFrom(String value);

  @Description("Last as-of date of a backfill, YYYY-MM-DD (inclusive).")
  String getTo();

  void setTo(String value);

  @Description("Also load the online store: redis://[USER:PASSWORD@]HOST:PORT[/DB] (or the"
      + " password in REDIS_PASSWORD). Each entity's state as of the last as-of instant is"
      + " written, unless Redis holds one that includes more.")
  String getOnlineStore();

  void setOnlineStore(String value);

  @Description("Also mirror each published partition into the table <feature_set>_v<version> of"
      + " this database: a JDBC URL (jdbc:postgresql://HOST:PORT/DB?user=U,"
      + " jdbc:mariadb://HOST:PORT/DB?user=U). The table is created when missing (primary key"
      + " (entity, as_of_date)) and each date's rows are replaced in one transaction after its"
      + " partition is published; the Parquet store stays the source of truth.")
  String getJdbcSink();

  void setJdbcSink(String value);

  @Description("With --jdbcSink, the name of an environment variable holding its password (else"
      + " password= in the URL, which is taken out of everything the run prints).")
  String getJdbcSinkPasswordEnv();

  void setJdbcSinkPasswordEnv(String value);

  @Description("Parquet files per as-of partition; an entity's file is chosen by a stable hash of"
      + " its key.")
  @Default.Integer(1)
  int getShardsPerPartition();

  void setShardsPerPartition(int value);

  @Description("Read each uncompressed CSV or JSON-lines file in parts of about this many MB,"
      + " cut where records start and spread over the workers, so that one large file does not"
      + " leave all but one worker idle; 0 reads each file with one worker.")
  @Default.Integer(32)
  int getFilePartMegabytes();

  void setFilePartMegabytes(int value);

  @Description("With a jdbc: source, the table to read: NAME or SCHEMA.NAME (letters, digits, _"
      + " and $), quoted as given.")
  String getTable();

  void setTable(String value);

  @Description("With a jdbc: source, your own SELECT instead of --table; it is read as a"
      + " subquery, which the run's time range and checks wrap.")
  String getQuery();

  void setQuery(String value);

  @Description("With a jdbc: source, how many queries read the run's time range, each an equal"
      + " part of it (a timestamp column of text or numbers is read by one).")
  @Default.Integer(1)
  int getJdbcPartitions();

  void setJdbcPartitions(int value);

  @Description("With a jdbc: source, the database user (else user= in the URL).")
  String getJdbcUser();

  void setJdbcUser(String value);

  @Description("With a jdbc: source, the name of an environment variable holding the password"
      + " (else password= in the URL, which is taken out of everything the run prints).")
  String getJdbcPasswordEnv();

  void setJdbcPasswordEnv(String value);
}
