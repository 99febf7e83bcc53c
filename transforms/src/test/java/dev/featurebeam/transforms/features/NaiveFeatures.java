package dev.featurebeam.transforms.features;

import dev.featurebeam.spec.FeatureDef;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldType;
import java.math.BigDecimal;
import java.math.MathContext;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A test oracle written straight from the reference's rules, independent of tiles: for every entity and as-of
 * date it scans all events and filters [T - L, T). Slow and obvious on purpose.
 */
public final class NaiveFeatures {
  private static final long DAY = 86_400_000L;

  /** One event: field name to plain value (String, Long, Double; timestamps as Long millis). */
  static List<String> rows(FeatureSpec spec, List<Map<String, Object>> events, LocalDate from, LocalDate to) {
    TreeMap<String, List<Map<String, Object>>> byEntity = new TreeMap<>();
    for (Map<String, Object> e : events) {
      byEntity.computeIfAbsent((String) e.get(spec.entity()), k -> new ArrayList<>()).add(e);
    }
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, List<Map<String, Object>>> entity : byEntity.entrySet()) {
      for (LocalDate d = from; !d.isAfter(to); d = d.plusDays(1)) {
        long t = spec.asOf().instantOf(d);
        long presence = spec.presenceWindowMillis();
        boolean present = false;
        for (Map<String, Object> e : entity.getValue()) {
          long ts = (Long) e.get(spec.timestamp());
          if (ts < t && (presence == Long.MAX_VALUE || ts >= t - presence)) {
            present = true;
          }
        }
        if (!present) {
          continue;
        }
        StringBuilder sb = new StringBuilder(entity.getKey()).append(',').append(d);
        for (FeatureDef f : spec.features()) {
          sb.append(',');
          Object v = value(spec, f, entity.getValue(), t);
          sb.append(v == null ? "" : v.toString());
        }
        out.add(sb.toString());
      }
    }
    return out;
  }

  /**
   * Feature {@code f} at instant {@code t} over one entity's de-duplicated {@code events}: an
   * instant's type (MIN/MAX of a timestamp) is a java.time.Instant, other values as {@link #rows}.
   */
  public static Object value(FeatureSpec spec, FeatureDef f, List<Map<String, Object>> events, long t) {
    List<Map<String, Object>> in = new ArrayList<>();
    for (Map<String, Object> e : events) {
      long ts = (Long) e.get(spec.timestamp());
      boolean inWindow = ts < t && (f.windowMillis() == null || ts >= t - f.windowMillis());
      boolean matches = true;
      for (Map.Entry<String, List<Object>> w : f.where().entrySet()) {
        matches &= e.get(w.getKey()) != null && w.getValue().contains(e.get(w.getKey()));
      }
      if (inWindow && matches) {
        in.add(e);
      }
    }
    FieldType type = f.field() == null ? null : spec.field(f.field()).type();
    List<Object> values = new ArrayList<>();
    for (Map<String, Object> e : in) {
      if (f.field() != null && e.get(f.field()) != null) {
        values.add(e.get(f.field()));
      }
    }
    switch (f.agg()) {
      case COUNT:
        return (long) in.size();
      case EXISTS:
        return !in.isEmpty();
      case COUNT_DISTINCT:
        return (long) new HashSet<>(values).size();
      case SUM: {
        if (values.isEmpty()) {
          return null;
        }
        BigDecimal s = BigDecimal.ZERO;
        for (Object v : values) {
          s = s.add(v instanceof Long ? BigDecimal.valueOf((Long) v) : new BigDecimal((Double) v));
        }
        return type == FieldType.LONG ? (Object) s.longValue() : (Object) s.doubleValue();
      }
      case AVG: {
        if (values.isEmpty()) {
          return null;
        }
        BigDecimal s = BigDecimal.ZERO;
        for (Object v : values) {
          s = s.add(v instanceof Long ? BigDecimal.valueOf((Long) v) : new BigDecimal((Double) v));
        }
        return s.divide(BigDecimal.valueOf(values.size()), MathContext.DECIMAL128).doubleValue();
      }
      case MIN:
      case MAX: {
        if (values.isEmpty()) {
          return null;
        }
        @SuppressWarnings({"unchecked", "rawtypes"})
        TreeSet<Object> sorted = new TreeSet<>((a, b) -> ((Comparable) a).compareTo(b));
        sorted.addAll(values);
        Object v = f.agg().name().equals("MIN") ? sorted.first() : sorted.last();
        return type == FieldType.TIMESTAMP ? java.time.Instant.ofEpochMilli((Long) v) : v;
      }
      case LAST: {
        Map<String, Object> best = null;
        for (Map<String, Object> e : in) {
          if (best == null || later(spec, e, best)) {
            best = e;
          }
        }
        return best == null ? null : best.get(f.field());
      }
      case DAYS_SINCE_LAST: {
        long latest = Long.MIN_VALUE;
        for (Map<String, Object> e : in) {
          latest = Math.max(latest, (Long) e.get(spec.timestamp()));
        }
        return latest == Long.MIN_VALUE ? null : (int) Math.floorDiv(t - latest, DAY);
      }
      default:
        throw new IllegalStateException();
    }
  }

  private static boolean later(FeatureSpec spec, Map<String, Object> a, Map<String, Object> b) {
    long ta = (Long) a.get(spec.timestamp());
    long tb = (Long) b.get(spec.timestamp());
    if (ta != tb) {
      return ta > tb;
    }
    return a.get(spec.dedupKey()).toString().compareTo(b.get(spec.dedupKey()).toString()) > 0;
  }

}
