package dev.featurebeam.pipelines.online;

import java.util.List;

/**
 * One entity's features at one instant, from the online store: the values in spec order (the
 * offline store's types; timestamps as Joda instants), and what the stored state was.
 */
public final class FeatureRow {
  private final String entity;
  private final long atMillis;
  private final List<Object> values;
  private final boolean held;
  private final long latestEventMillis;
  private final long watermarkMillis;
  private final long eventCount;

  FeatureRow(String entity, long atMillis, List<Object> values, boolean held,
      long latestEventMillis, long watermarkMillis, long eventCount) {
    this.entity = entity;
    this.atMillis = atMillis;
    this.values = values;
    this.held = held;
    this.latestEventMillis = latestEventMillis;
    this.watermarkMillis = watermarkMillis;
    this.eventCount = eventCount;
  }

  public String entity() {
    return entity;
  }

  /** The instant the values describe (epoch ms): windows [at - L, at), events strictly before. */
  public long atMillis() {
    return atMillis;
  }

  /** The features' values in spec order; null where a feature has no value. */
  public List<Object> values() {
    return values;
  }

  /** Whether the store held a state for the entity (false: counts 0, exists false, nulls). */
  public boolean held() {
    return held;
  }

  /** The latest event the state holds (epoch ms), Long.MIN_VALUE when not held. */
  public long latestEventMillis() {
    return latestEventMillis;
  }

  /**
   * The watermark the state was written at (epoch ms): its writer had every event before it.
   * Long.MIN_VALUE when not held.
   */
  public long watermarkMillis() {
    return watermarkMillis;
  }

  /** How many events the state includes; 0 when not held. */
  public long eventCount() {
    return eventCount;
  }

  /** How far the state's watermark is behind the instant asked for; -1 when not held. */
  public long freshnessMillis() {
    return held ? Math.max(0, atMillis - watermarkMillis) : -1;
  }
}
