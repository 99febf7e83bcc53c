package dev.featurebeam.io.source;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.instanceOf;

import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.testing.CoderProperties;
import org.junit.jupiter.api.Test;

/** A matched file is a value with a coder of its own, not Java serialization. */
class SourceFileTest {
  @Test
  void theRegistryFindsItsCoderAndItIsDeterministic() throws Exception {
    assertThat(CoderRegistry.createDefault().getCoder(SourceFile.class),
        instanceOf(SourceFile.SourceFileCoder.class));
    SourceFile.SourceFileCoder coder = SourceFile.SourceFileCoder.of();
    SourceFile csv = SourceFile.of("/data/events-1.csv", 12_345, FileFormat.CSV);
    SourceFile same = SourceFile.of("/data/events-" + 1 + ".csv", 12_345, FileFormat.CSV);
    for (SourceFile f : new SourceFile[] {csv, SourceFile.of("", 0, FileFormat.JSONL),
        SourceFile.of("gs://b/ü.parquet", Long.MAX_VALUE, FileFormat.PARQUET)}) {
      CoderProperties.coderDecodeEncodeEqual(coder, f);
      CoderProperties.structuralValueDecodeEncodeEqual(coder, f);
      CoderProperties.coderConsistentWithEquals(coder, csv, f);
    }
    CoderProperties.coderDeterministic(coder, csv, same);
    coder.verifyDeterministic();
    CoderProperties.coderSerializable(coder);
  }
}
