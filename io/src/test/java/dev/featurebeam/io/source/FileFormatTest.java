package dev.featurebeam.io.source;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class FileFormatTest {
  @Test
  void chosenByExtension() {
    assertThat(FileFormat.of("/d/a.csv"), is(FileFormat.CSV));
    assertThat(FileFormat.of("/d/A.CSV"), is(FileFormat.CSV));
    assertThat(FileFormat.of("/d/a.jsonl"), is(FileFormat.JSONL));
    assertThat(FileFormat.of("/d/a.json"), is(FileFormat.JSONL));
    assertThat(FileFormat.of("gs://b/a.parquet"), is(FileFormat.PARQUET));
  }

  @Test
  void anythingElseNamesTheFile() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> FileFormat.of("/d/a.csv.gz"));
    assertThat(e.getMessage(), containsString("/d/a.csv.gz"));
  }
}
