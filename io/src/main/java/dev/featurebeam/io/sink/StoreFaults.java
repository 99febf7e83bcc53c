package dev.featurebeam.io.sink;

import java.io.IOException;

/**
 * Named points in the store's file operations where a test can crash the process or fail the step,
 * to prove what a crash at that point leaves behind. Set the system property {@value #PROPERTY} to
 * a comma-separated list of {@code STEP[@QUALIFIER][:halt|:throw|:pause=MILLIS]}, for example
 * {@code publish.after-exchange@2025-01-05:halt}. {@code halt} (the default) stops the JVM at once,
 * as {@code kill -9} would, with exit status 137; {@code throw} fails the step with an
 * IOException; {@code pause} holds the step (and whatever lock the run holds) for a while, so that
 * a test can start a second run against it. Each prints one line on standard error first. Without
 * the property every point is a no-op.
 */
public final class StoreFaults {
  public static final String PROPERTY = "featurebeam.faults";

  /** The run holds the store's lock and has recovered what earlier runs left. */
  public static final String AFTER_LOCK = "run.after-lock";
  /** The manifest is written into the staged partition; nothing is swapped yet. */
  public static final String AFTER_MANIFEST = "publish.after-manifest";
  /** The staged and the published folders are exchanged; the old one sits in staging. */
  public static final String AFTER_EXCHANGE = "publish.after-exchange";
  /** Two-rename swap: the old partition is moved aside; no partition is in place. */
  public static final String AFTER_ASIDE = "publish.after-aside";
  /**
   * Two-rename swap: the new partition is moved in; the old one is still aside. Remote root: the
   * manifest is copied in last, the staged folder is still there.
   */
  public static final String AFTER_MOVE_IN = "publish.after-move-in";
  /**
   * Remote root: the published manifest (or a run folder's report) is deleted; nothing is copied
   * in yet, so the date is unpublished.
   */
  public static final String AFTER_UNPUBLISH = "publish.after-unpublish";
  /** Remote root: the first listed file is copied over the published one; the manifest is not. */
  public static final String AFTER_FIRST_COPY = "publish.after-first-copy";
  /** The old partition is deleted (remote root: the staged folder is deleted). */
  public static final String AFTER_CLEANUP = "publish.after-cleanup";
  /** The quarantine's sorted runs are written, not yet merged. */
  public static final String AFTER_QUARANTINE_RUNS = "quarantine.after-runs";
  /** The pipeline has finished; the run report is not written yet. */
  public static final String AFTER_PIPELINE = "run.after-pipeline";
  /** The run report is written into staging; the run folder is not swapped in yet. */
  public static final String AFTER_REPORT = "run.after-report";

  /**
   * The JDBC feature table: a date's rows are replaced inside its transaction, not committed yet
   * (qualifier: the date, YYYY-MM-DD).
   */
  public static final String SINK_BEFORE_COMMIT = "sink.before-commit";

  private StoreFaults() {}

  /** Crashes or fails here if the property names this step (and qualifier). */
  public static void at(String step, String qualifier) throws IOException {
    String spec = System.getProperty(PROPERTY);
    if (spec == null || spec.isEmpty()) {
      return;
    }
    for (String entry : spec.split(",")) {
      String point = entry.strip();
      String action = "halt";
      int colon = point.lastIndexOf(':');
      if (colon > 0) {
        action = point.substring(colon + 1);
        point = point.substring(0, colon);
      }
      int at = point.indexOf('@');
      String name = at < 0 ? point : point.substring(0, at);
      String only = at < 0 ? null : point.substring(at + 1);
      if (!name.equals(step) || (only != null && !only.equals(qualifier))) {
        continue;
      }
      String where = step + (qualifier.isEmpty() ? "" : "@" + qualifier);
      System.err.println("featurebeam: fault injected: " + action + " at " + where);
      System.err.flush();
      if (action.equals("throw")) {
        throw new IOException("fault injected at " + where);
      } else if (action.startsWith("pause=")) {
        try {
          Thread.sleep(Long.parseLong(action.substring("pause=".length())));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      } else {
        Runtime.getRuntime().halt(137);
      }
    }
  }
}
