package dev.featurebeam.pipelines.generate;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Writes the bundled sample, examples/data/events.csv: the default {@link GeneratorConfig}
 * (seed 42, 100000 events, 2000 users, 60 days from 2025-01-01, skew 1.0, 0.5% duplicates, 0.2%
 * malformed). Argument: the output path.
 */
public final class GenerateExample {
  private GenerateExample() {}

  public static void main(String[] args) throws IOException {
    Path out = Path.of(args.length > 0 ? args[0] : "examples/data/events.csv");
    System.out.println(EventGenerator.write(GeneratorConfig.builder().build(), out).describe() + ": " + out);
  }
}
