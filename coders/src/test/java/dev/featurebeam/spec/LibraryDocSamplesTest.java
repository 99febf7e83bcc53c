package dev.featurebeam.spec;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/library.md shows code from examples/library: a sample whose first line names a file there
 * ({@code // examples/library/...}, {@code # ...} or {@code <!-- ... -->}) must be lines of that
 * file, in order and together, so that the page cannot drift from code that compiles and is
 * tested.
 */
class LibraryDocSamplesTest {
  private static final Pattern BLOCK = Pattern.compile("```[a-z]*\\n(.*?)```", Pattern.DOTALL);
  private static final Pattern NAMED =
      Pattern.compile("(?://|#|<!--) (examples/library/\\S+)(?: -->)?");

  @Test
  void everyNamedSampleIsTakenFromItsFile() throws IOException {
    Path root = DocumentedSpecsTest.repositoryRoot();
    String page = Files.readString(root.resolve("docs/library.md"), StandardCharsets.UTF_8);
    int samples = 0;
    Matcher m = BLOCK.matcher(page);
    while (m.find()) {
      List<String> lines = Arrays.asList(m.group(1).split("\n"));
      Matcher named = NAMED.matcher(lines.get(0).strip());
      if (!named.matches()) {
        continue;
      }
      Path file = root.resolve(named.group(1));
      List<String> sample = stripped(lines.subList(1, lines.size()));
      List<String> source = stripped(Files.readAllLines(file, StandardCharsets.UTF_8));
      if (Collections.indexOfSubList(source, sample) < 0) {
        throw new AssertionError("docs/library.md shows lines that " + named.group(1)
            + " does not hold together:\n" + String.join("\n", sample));
      }
      samples++;
    }
    assertThat("samples naming their file in docs/library.md", samples, greaterThanOrEqualTo(10));
  }

  /** Lines without their indentation, which a sample drops. */
  private static List<String> stripped(List<String> lines) {
    List<String> out = new ArrayList<>();
    for (String line : lines) {
      out.add(line.strip());
    }
    return out;
  }
}
