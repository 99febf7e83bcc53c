package dev.featurebeam.transforms.features;

import dev.featurebeam.spec.Aggregation;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.HashSet;

/**
 * The partial aggregate of one feature over one stretch of time. Mutable; combined in place.
 *
 * <p>Sums are exact ({@link ExactSum}), so the combining order — which differs between runners,
 * bundles and parallelism — can never change a bit of the result.
 */
final class Agg implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Matching events (count, exists) or non-null values seen (sum, avg, min, max). */
  long count;
  ExactSum sum;
  Object extreme;
  HashSet<Object> distinct;
  /** Latest matching event time (last, days_since_last); Long.MIN_VALUE when none. */
  long lastTs = Long.MIN_VALUE;
  String lastTie;
  Object lastValue;

  void add(Aggregation agg, Object value, long ts, String tie) {
    switch (agg) {
      case COUNT:
      case EXISTS:
        count++;
        break;
      case SUM:
      case AVG:
        if (value != null) {
          count++;
          if (sum == null) {
            sum = new ExactSum();
          }
          if (value instanceof Long) {
            sum.add((long) (Long) value);
          } else {
            sum.add(((Number) value).doubleValue());
          }
        }
        break;
      case MIN:
      case MAX:
        if (value != null) {
          count++;
          if (extreme == null || better(agg, value, extreme)) {
            extreme = value;
          }
        }
        break;
      case COUNT_DISTINCT:
        if (value != null) {
          if (distinct == null) {
            distinct = new HashSet<>();
          }
          distinct.add(value);
        }
        break;
      case LAST:
        if (isLater(ts, tie)) {
          lastTs = ts;
          lastTie = tie;
          lastValue = value;
        }
        break;
      case DAYS_SINCE_LAST:
        if (ts > lastTs) {
          lastTs = ts;
        }
        break;
      default:
        throw new IllegalStateException("unknown aggregation " + agg);
    }
  }

  void merge(Aggregation agg, Agg other) {
    if (other == null) {
      return;
    }
    count += other.count;
    if (other.sum != null) {
      if (sum == null) {
        sum = other.sum.copy(); // never share: sums are added to in place
      } else {
        sum.add(other.sum);
      }
    }
    if (other.extreme != null && (extreme == null || better(agg, other.extreme, extreme))) {
      extreme = other.extreme;
    }
    if (other.distinct != null) {
      if (distinct == null) {
        distinct = new HashSet<>(other.distinct);
      } else {
        distinct.addAll(other.distinct);
      }
    }
    if (other.lastTs != Long.MIN_VALUE) {
      if (agg == Aggregation.LAST) {
        if (isLater(other.lastTs, other.lastTie)) {
          lastTs = other.lastTs;
          lastTie = other.lastTie;
          lastValue = other.lastValue;
        }
      } else if (other.lastTs > lastTs) {
        lastTs = other.lastTs;
      }
    }
  }

  private boolean isLater(long ts, String tie) {
    if (lastTs == Long.MIN_VALUE || ts > lastTs) {
      return true;
    }
    return ts == lastTs && tie != null && (lastTie == null || tie.compareTo(lastTie) > 0);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static boolean better(Aggregation agg, Object candidate, Object current) {
    int c = ((Comparable) candidate).compareTo(current);
    return agg == Aggregation.MIN ? c < 0 : c > 0;
  }

  /** A value its output column cannot hold exactly: the partition must not be published. */
  static final class UnrepresentableException extends Exception {
    UnrepresentableException(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * The feature's value as of instant {@code asOf}, typed per the output columns.
   *
   * @throws UnrepresentableException for an int64 sum outside the int64 range, or a double sum or
   *     average that is not finite (their exact values are, so the column cannot hold them)
   */
  Object result(Aggregation agg, boolean longField, boolean timestampField, long asOf)
      throws UnrepresentableException {
    switch (agg) {
      case COUNT:
        return count;
      case EXISTS:
        return count > 0;
      case COUNT_DISTINCT:
        return distinct == null ? 0L : (long) distinct.size();
      case SUM:
        if (count == 0) {
          return null;
        }
        if (longField) {
          BigDecimal exact = sum.toBigDecimal();
          try {
            return exact.longValueExact();
          } catch (ArithmeticException e) {
            throw new UnrepresentableException(
                "int64 sum overflows: " + exact.toBigInteger() + " is outside the int64 range");
          }
        }
        return finite(sum.doubleValue(), "double sum");
      case AVG:
        return count == 0
            ? null
            : finite(
                sum.toBigDecimal()
                    .divide(BigDecimal.valueOf(count), MathContext.DECIMAL128)
                    .doubleValue(),
                "double average");
      case MIN:
      case MAX:
        return typed(extreme, timestampField);
      case LAST:
        return lastTs == Long.MIN_VALUE ? null : typed(lastValue, timestampField);
      case DAYS_SINCE_LAST:
        return lastTs == Long.MIN_VALUE ? null : (int) Math.floorDiv(asOf - lastTs, FeaturePlan.DAY);
      default:
        throw new IllegalStateException("unknown aggregation " + agg);
    }
  }

  private static double finite(double value, String what) throws UnrepresentableException {
    if (Double.isInfinite(value) || Double.isNaN(value)) {
      throw new UnrepresentableException(
          what + " is not finite: the exact value is beyond the double range");
    }
    return value;
  }

  private static Object typed(Object value, boolean timestampField) {
    if (value != null && timestampField) {
      return new org.joda.time.Instant((long) (Long) value);
    }
    return value;
  }
}
