package dev.featurebeam.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The options of `generate` that only a Kafka topic can take are refused for a file. */
class GenerateCommandTest {
  @TempDir Path tmp;

  @Test
  void kafkaOnlyOptionsAreRefusedForAFileAndWriteNothing() {
    for (String option : new String[] {"--liveTimestamps=true", "--rate=100", "--partitions=3"}) {
      Path file = tmp.resolve("events-" + option.substring(2, 6) + ".csv");
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int exit = FeatureBeamCli.run(new String[] {"generate", "--out=" + file, "--events=10",
          option}, new PrintStream(out, true, StandardCharsets.UTF_8),
          new PrintStream(err, true, StandardCharsets.UTF_8));
      assertThat(option, exit, is(FeatureBeamCli.USAGE));
      assertThat(option, err.toString(StandardCharsets.UTF_8),
          containsString("apply to --out=kafka://HOST:PORT/TOPIC only"));
      assertThat(option, Files.exists(file), is(false));
    }
  }
}
