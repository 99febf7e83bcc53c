package dev.featurebeam.pipelines;

/**
 * FeatureBeam's version: the Implementation-Version that Maven writes into the jar's manifest
 * (the project's version), so the POM is the one place that defines it.
 */
public final class Version {
  /** Where the classes do not come from the jar (tests, an IDE), which has no manifest to read. */
  static final String UNPACKAGED = "dev";

  private Version() {}

  /** e.g. {@code 0.1.0}; {@value #UNPACKAGED} outside the jar. */
  public static String get() {
    String v = Version.class.getPackage().getImplementationVersion();
    return v == null || v.isBlank() ? UNPACKAGED : v;
  }

  /** What the offline store's manifests record as the tool that wrote them. */
  public static String tool() {
    return "featurebeam-" + get();
  }
}
