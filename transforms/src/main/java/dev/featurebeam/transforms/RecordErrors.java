package dev.featurebeam.transforms;

import static com.google.common.base.Preconditions.checkArgument;

import dev.featurebeam.model.QuarantineRecord;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * The quarantine record of a record whose processing threw: reason {@code ERROR:<step>} (e.g.
 * {@code ERROR:validate}), the record's payload and source, and the exception in the detail. A
 * per-record step catches the {@link RuntimeException} around one record and quarantines it with
 * this, so that one record the code cannot handle is kept for a look instead of failing the run,
 * as Beam's bad-record router does. Only the record's own processing is inside the catch, never
 * its output: on a runner that fuses steps an output call runs the next steps, whose errors are
 * theirs.
 */
public final class RecordErrors {
  /** Reasons of records whose processing threw start with this. */
  public static final String PREFIX = "ERROR:";

  private static final String OWN_CODE = "dev.featurebeam.";

  private RecordErrors() {}

  /** {@code ERROR:<step>}. */
  public static String reason(String step) {
    checkArgument(step != null && !step.isEmpty(), "an error's step is empty");
    return PREFIX + step;
  }

  /** The quarantine record for {@code error}, thrown while {@code step} processed the record. */
  public static QuarantineRecord quarantineRecord(
      String step, RuntimeException error, String source, String payload, long payloadLength) {
    return QuarantineRecord.of(reason(step), detail(error), source, payload, payloadLength);
  }

  /**
   * What was thrown, most useful first, since a detail is cut at {@link
   * QuarantineRecord#MAX_DETAIL_CHARS}: the exception's class and message, then each cause's, then
   * where the innermost cause was thrown, a frame a line, down to the last frame of FeatureBeam's
   * own code (the runner's frames below it are the same for every record).
   */
  public static String detail(Throwable error) {
    StringBuilder sb = new StringBuilder(256).append(error);
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    seen.add(error);
    Throwable root = error;
    while (root.getCause() != null && seen.add(root.getCause())) {
      root = root.getCause();
      sb.append("\nCaused by: ").append(root);
    }
    StackTraceElement[] frames = root.getStackTrace();
    int last = frames.length - 1;
    for (int i = frames.length - 1; i >= 0; i--) {
      if (frames[i].getClassName().startsWith(OWN_CODE)) {
        last = i;
        break;
      }
    }
    for (int i = 0; i <= last; i++) {
      sb.append("\n\tat ").append(frames[i]);
    }
    return sb.toString();
  }
}
