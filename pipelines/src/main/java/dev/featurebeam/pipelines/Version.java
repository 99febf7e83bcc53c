package dev.featurebeam.pipelines;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * FeatureBeam's version: the POM's, which Maven filters into {@code version.properties}. Read from
 * a resource rather than the jar's manifest so that classes on a plain class path (tests, an IDE,
 * a library user's pipeline) and the shaded jar record the same version, and so the same manifests.
 */
public final class Version {
  private static final String VERSION = load();

  private Version() {}

  /** e.g. {@code 0.1.0}. */
  public static String get() {
    return VERSION;
  }

  /** What the offline store's manifests record as the tool that wrote them. */
  public static String tool() {
    return "featurebeam-" + get();
  }

  private static String load() {
    try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        throw new IllegalStateException("version.properties is missing from the class path");
      }
      Properties p = new Properties();
      p.load(in);
      String v = p.getProperty("version", "");
      if (v.isBlank() || v.startsWith("${")) {
        throw new IllegalStateException("version.properties was not filtered by the build: " + v);
      }
      return v;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
