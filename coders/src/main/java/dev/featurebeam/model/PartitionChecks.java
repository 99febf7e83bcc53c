package dev.featurebeam.model;

import java.io.Serializable;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;

/**
 * Quality checks on the feature rows of each as-of partition, split so that a sink can run them
 * on the rows it writes: statistics per file, merged per date, then one verdict per date judged
 * over the whole run (row-count checks compare a date with the dates before it).
 *
 * <p>Why a sink runs them: on Flink's batch runner a PCollection read by two steps is serialized
 * once for each, so a gate reading the feature rows beside the store would serialize every row
 * once more. {@link dev.featurebeam.spec.SpecChecks} are the spec's checks.
 *
 * @param <S> the statistics of a set of rows; mutable, encoded by {@link #statsCoder()}
 */
public interface PartitionChecks<S> extends Serializable {
  /** Statistics of no rows. */
  S create();

  /** Counts one feature row into {@code stats}. */
  void add(S stats, Row row);

  /** Folds {@code other} into {@code into}; leaves {@code other} as it was. */
  void merge(S into, S other);

  Coder<S> statsCoder();

  /**
   * One verdict per as-of date of the run, in date order, from each date's merged statistics; a
   * date missing from {@code byDate} has no rows.
   */
  List<PartitionVerdict> judge(SortedMap<Long, S> byDate);

  /**
   * Merges partial statistics per date, into fresh ones (the partials stay as they were), and
   * {@link #judge}s the run.
   */
  default List<PartitionVerdict> judgePartials(Iterable<KV<Long, S>> partials) {
    SortedMap<Long, S> byDate = new TreeMap<>();
    for (KV<Long, S> partial : partials) {
      merge(byDate.computeIfAbsent(partial.getKey(), day -> create()), partial.getValue());
    }
    return judge(byDate);
  }
}
