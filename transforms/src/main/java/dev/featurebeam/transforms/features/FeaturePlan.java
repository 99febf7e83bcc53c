package dev.featurebeam.transforms.features;

import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import dev.featurebeam.spec.AsOf;
import dev.featurebeam.spec.Aggregation;
import dev.featurebeam.spec.FeatureDef;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldType;
import dev.featurebeam.transforms.EventRows;
import java.io.Serializable;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * The spec's features compiled for the hot path: field indexes, where-filters as sets, and each
 * window split into whole days plus, for windows that are not a whole number of days, the
 * time-of-day at which the window's oldest, partial day starts ({@link #cut}).
 *
 * <p>Every as-of instant T is a UTC midnight, so a window [T - L, T) always covers the last
 * {@code L / day} whole days before T plus the part of the day before those that starts at the
 * fixed time of day {@code (-L) mod day}. A tile that keeps, per feature, the aggregate of its
 * whole day and of that tail of the day serves every window exactly.
 */
public final class FeaturePlan implements Serializable {
  public static final long DAY = AsOf.DAY_MILLIS;

  final Aggregation[] aggs;
  final int[] fieldIndex;
  final boolean[] timestampField;
  final int[][] whereIndex;
  final Set<Object>[][] whereValues;
  /** Window length in ms, or -1 for the whole history. */
  final long[] window;
  /** Time of day (ms) where the window's partial oldest day starts; 0 when L is whole days. */
  final long[] cut;
  final int timestampIndex;
  final int entityIndex;
  final int dedupIndex;
  final boolean needsTie;
  /** Presence window: a row exists when an event lies in [T - presence, T); MAX for history. */
  final long presence;
  final AsOf asOf;
  final FieldType[] fieldTypes;
  /**
   * The string fields whose values repeat across events (the entity, the where-fields and the
   * aggregated fields): an event a state holds shares them (see {@link #compact}).
   */
  private final int[] shared;
  /** Weak: a value is dropped once no held event refers to it. Thread-safe. */
  private static final Interner<String> VALUES = Interners.newWeakInterner();

  @SuppressWarnings("unchecked")
  public FeaturePlan(FeatureSpec spec) {
    List<FeatureDef> features = spec.features();
    int n = features.size();
    aggs = new Aggregation[n];
    fieldIndex = new int[n];
    timestampField = new boolean[n];
    whereIndex = new int[n][];
    whereValues = new Set[n][];
    window = new long[n];
    cut = new long[n];
    fieldTypes = new FieldType[n];
    boolean tie = false;
    for (int i = 0; i < n; i++) {
      FeatureDef f = features.get(i);
      aggs[i] = f.agg();
      fieldIndex[i] = f.field() == null ? -1 : spec.fieldIndex(f.field());
      fieldTypes[i] = f.field() == null ? null : spec.field(f.field()).type();
      timestampField[i] = fieldTypes[i] == FieldType.TIMESTAMP;
      whereIndex[i] = new int[f.where().size()];
      whereValues[i] = new Set[f.where().size()];
      int j = 0;
      for (Map.Entry<String, List<Object>> w : f.where().entrySet()) {
        whereIndex[i][j] = spec.fieldIndex(w.getKey());
        whereValues[i][j++] = new HashSet<>(w.getValue());
      }
      window[i] = f.windowMillis() == null ? -1 : f.windowMillis();
      cut[i] = window[i] <= 0 ? 0 : Math.floorMod(-window[i], DAY);
      tie |= f.agg() == Aggregation.LAST;
    }
    timestampIndex = spec.fieldIndex(spec.timestamp());
    entityIndex = spec.fieldIndex(spec.entity());
    dedupIndex = spec.dedupKey() == null ? -1 : spec.fieldIndex(spec.dedupKey());
    needsTie = tie;
    Set<Integer> repeated = new TreeSet<>();
    repeated.add(spec.fieldIndex(spec.entity()));
    for (int i = 0; i < n; i++) {
      if (fieldIndex[i] >= 0) {
        repeated.add(fieldIndex[i]);
      }
      for (int w : whereIndex[i]) {
        repeated.add(w);
      }
    }
    shared = repeated.stream()
        .filter(i -> spec.eventSchema().getField(i).getType().getTypeName()
            == Schema.TypeName.STRING)
        .mapToInt(Integer::intValue).toArray();
    presence = spec.presenceWindowMillis();
    asOf = spec.asOf();
  }

  /**
   * The event with the values of {@link #shared} fields replaced by one shared instance each: a
   * state holds every event of its longest window, so a value repeated by every event (the
   * entity's id, an event type) would otherwise be held once per event. Equal to {@code event}.
   */
  int[] shared() {
    return shared;
  }

  /** The one instance of {@code value} that held events share. */
  static String shareValue(String value) {
    return VALUES.intern(value);
  }

  Row compact(Row event) {
    if (shared.length == 0) {
      return event;
    }
    Object[] values = event.getValues().toArray();
    for (int i : shared) {
      if (values[i] instanceof String) {
        values[i] = VALUES.intern((String) values[i]);
      }
    }
    return Row.withSchema(event.getSchema()).attachValues(Arrays.asList(values));
  }

  int size() {
    return aggs.length;
  }

  boolean matches(int feature, Row event) {
    int[] idx = whereIndex[feature];
    for (int j = 0; j < idx.length; j++) {
      if (!whereValues[feature][j].contains(EventRows.plainValue(event, idx[j]))) {
        return false;
      }
    }
    return true;
  }

  /** On equal event times the greatest dedup key wins; without one, the serialization. */
  String tie(Row event) {
    if (!needsTie) {
      return null;
    }
    if (dedupIndex >= 0 && event.getValue(dedupIndex) != null) {
      return EventRows.plainValue(event, dedupIndex).toString();
    }
    return EventRows.canonical(event);
  }
}
