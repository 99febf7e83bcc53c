package dev.featurebeam.spec;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThan;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every spec the README and docs/ show is one the real parser takes. */
class DocumentedSpecsTest {
  private static final Pattern YAML_BLOCK = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL);

  @Test
  void everyDocumentedSpecParses() throws IOException {
    Path root = repositoryRoot();
    List<Path> pages = new ArrayList<>();
    pages.add(root.resolve("README.md"));
    try (Stream<Path> docs = Files.walk(root.resolve("docs"))) {
      pages.addAll(docs.filter(p -> p.toString().endsWith(".md")).sorted()
          .collect(Collectors.toList()));
    }
    int specs = 0;
    for (Path page : pages) {
      Matcher m = YAML_BLOCK.matcher(Files.readString(page, StandardCharsets.UTF_8));
      while (m.find()) {
        String yaml = m.group(1);
        if (yaml.contains("feature_set:")) {
          try {
            SpecParser.parse(yaml);
          } catch (SpecException e) {
            throw new AssertionError(root.relativize(page) + ": a spec does not parse: "
                + e.getMessage() + "\n" + yaml, e);
          }
          specs++;
        }
      }
    }
    assertThat("specs found in the README and docs/", specs, greaterThan(1));
  }

  /** The repository root, found upwards from the working directory (Maven runs in the module). */
  static Path repositoryRoot() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve("docs")) && Files.isRegularFile(dir.resolve("README.md"))) {
        return dir;
      }
    }
    throw new IllegalStateException("no repository root above " + Path.of("").toAbsolutePath());
  }
}
