package dev.featurebeam.transforms;

import dev.featurebeam.spec.FeatureSpec;
import org.apache.beam.sdk.transforms.display.DisplayData;

/** The display data items the transforms share, so that each names its configuration alike. */
public final class DisplayItems {
  private DisplayItems() {}

  /** The spec's feature set and version, e.g. {@code user_features v3}. */
  public static DisplayData.ItemSpec<String> featureSet(FeatureSpec spec) {
    return DisplayData.item("featureSet", spec.featureSet() + " v" + spec.version())
        .withLabel("Feature set");
  }

  /** The as-of dates, e.g. {@code 2025-01-05..2025-01-07}, or {@code 2025-01-05..} for a stream. */
  public static DisplayData.ItemSpec<String> range(AsOfRange range) {
    return DisplayData.item("range", range.toString()).withLabel("As-of dates");
  }
}
