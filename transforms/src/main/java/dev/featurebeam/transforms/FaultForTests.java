package dev.featurebeam.transforms;

import java.io.Serializable;

/**
 * A test seam. No record a source can produce makes validation or cleaning throw (their rules
 * quarantine bad data with its own reason), so the tests of the {@code ERROR:<step>} quarantine
 * make chosen records throw with this: the step calls it inside its per-record catch, before it
 * processes the record. Production code never sets one.
 */
@FunctionalInterface
interface FaultForTests extends Serializable {
  FaultForTests NONE = (step, record) -> {};

  /** Called by {@code step} ("validate", "clean") with the record: a RawRecord or a Row. */
  void before(String step, Object record);
}
