package dev.featurebeam.io.sink;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.is;

import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.testing.TestPipelineExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(TestPipelineExtension.class)
class QuarantineWriteTest {
  private static final List<QuarantineRecord> RECORDS =
      List.of(
          QuarantineRecord.of("MISSING:user_id", "user_id is empty", "events.csv:3", "e3,,12.0"),
          QuarantineRecord.of(
              "BAD_TYPE:amount", "not a double: \"abc\"", "events.csv:7", "e7,u1,abc"),
          QuarantineRecord.of(
              "BAD_TIMESTAMP:ts", "cannot read ts", "events.jsonl:2", "{\"ts\":\"yesterday\"}"),
          QuarantineRecord.of(
              "BAD_TYPE:amount", "not a double: \"x\"", "events.csv:12", "e12,u2,x"),
          QuarantineRecord.of(
              "BAD_TYPE:amount", "not a double: \"y\"", "events.csv:12", "e12,u2,y"));

  private static final String EXPECTED =
      "{\"reason\":\"BAD_TYPE:amount\",\"detail\":\"not a double:"
          + " \\\"x\\\"\",\"source\":\"events.csv:12\",\"payload\":\"e12,u2,x\"}\n"
          + "{\"reason\":\"BAD_TYPE:amount\",\"detail\":\"not a double:"
          + " \\\"y\\\"\",\"source\":\"events.csv:12\",\"payload\":\"e12,u2,y\"}\n"
          + "{\"reason\":\"MISSING:user_id\",\"detail\":\"user_id is"
          + " empty\",\"source\":\"events.csv:3\",\"payload\":\"e3,,12.0\"}\n"
          + "{\"reason\":\"BAD_TYPE:amount\",\"detail\":\"not a double:"
          + " \\\"abc\\\"\",\"source\":\"events.csv:7\",\"payload\":\"e7,u1,abc\"}\n"
          + "{\"reason\":\"BAD_TIMESTAMP:ts\",\"detail\":\"cannot read"
          + " ts\",\"source\":\"events.jsonl:2\",\"payload\":\"{\\\"ts\\\":\\\"yesterday\\\"}\"}\n";

  @TempDir Path tmp;

  @Test
  void writesSortedJsonLinesAndRewritesIdentically(TestPipeline p) throws Exception {
    Path file = tmp.resolve("_runs/r1/quarantine.jsonl");
    PCollection<Long> written =
        p.apply(Create.of(RECORDS)).apply(QuarantineWrite.to(file.toString()));
    PAssert.thatSingleton(written).isEqualTo(5L);
    p.run().waitUntilFinish();
    byte[] first = Files.readAllBytes(file);
    assertThat(new String(first, java.nio.charset.StandardCharsets.UTF_8), is(EXPECTED));

    for (long seed = 1; seed <= 3; seed++) {
      List<QuarantineRecord> shuffled = new ArrayList<>(RECORDS);
      Collections.shuffle(shuffled, new Random(seed));
      run(file, shuffled);
      assertThat(java.util.Arrays.equals(Files.readAllBytes(file), first), is(true));
    }
    assertThat(listing(file.getParent()), contains("quarantine.jsonl"));
  }

  @Test
  void emptyInputClearsAnOldFile(TestPipeline p) throws Exception {
    Path file = tmp.resolve("quarantine.jsonl");
    run(file, RECORDS);
    assertThat(Files.size(file) > 0, is(true));

    PCollection<Long> written =
        p.apply(Create.empty(org.apache.beam.sdk.values.TypeDescriptor.of(QuarantineRecord.class)))
            .apply(QuarantineWrite.to(file.toString()));
    PAssert.thatSingleton(written).isEqualTo(0L);
    p.run().waitUntilFinish();
    assertThat(Files.size(file), is(0L));
    assertThat(listing(tmp), contains("quarantine.jsonl"));
  }

  /**
   * Many records, sorted in many small runs over several shards and merged: the same bytes as one
   * run holding them all, one line per record.
   */
  @Test
  void smallRunsMergeIntoTheSameFile() throws Exception {
    Random random = new Random(5);
    List<QuarantineRecord> many = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      many.add(QuarantineRecord.of("BAD_TYPE:f" + random.nextInt(3), "d" + random.nextInt(5),
          "file" + random.nextInt(4) + ".csv:" + random.nextInt(2000),
          "payload " + random.nextInt(100)));
    }
    Path one = tmp.resolve("one/quarantine.jsonl");
    Path runs = tmp.resolve("runs/quarantine.jsonl");
    Pipeline p1 = SinkFixtures.newPipeline(2);
    p1.apply(Create.of(many)).apply(QuarantineWrite.to(one.toString()).withShards(1));
    p1.run().waitUntilFinish();
    Pipeline p2 = SinkFixtures.newPipeline(3);
    p2.apply(Create.of(many))
        .apply(QuarantineWrite.to(runs.toString()).withShards(7).withRunChars(2_000));
    p2.run().waitUntilFinish();

    List<String> lines = Files.readAllLines(one);
    assertThat(lines.size(), is(3000));
    assertThat(java.util.Arrays.equals(Files.readAllBytes(runs), Files.readAllBytes(one)), is(true));
    assertThat(listing(runs.getParent()), contains("quarantine.jsonl")); // no runs left
    List<String> expected = new ArrayList<>();
    many.stream().sorted(QuarantineWrite.ORDER).forEach(r -> expected.add(QuarantineWrite.toJsonLine(r)));
    assertThat(lines, is(expected));
  }

  /** A payload too large to keep is kept in part, with the length of the whole. */
  @Test
  void aHugePayloadIsKeptInPartWithItsLength(TestPipeline p) throws Exception {
    String huge = "x".repeat(1_000_000);
    Path file = tmp.resolve("quarantine.jsonl");
    p.apply(Create.of(QuarantineRecord.of("MALFORMED", "d".repeat(5_000), "big.csv:2", huge)))
        .apply(QuarantineWrite.to(file.toString()));
    p.run().waitUntilFinish();
    com.fasterxml.jackson.databind.JsonNode line =
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(file));
    assertThat(line.get("payload").asText(), is("x".repeat(QuarantineRecord.MAX_PAYLOAD_CHARS)));
    assertThat(line.get("payload_truncated").asBoolean(), is(true));
    assertThat(line.get("payload_length").asLong(), is(1_000_000L));
    assertThat(line.get("detail").asText().length(), is(QuarantineRecord.MAX_DETAIL_CHARS + 1));
  }

  private static void run(Path file, List<QuarantineRecord> records) {
    Pipeline p = SinkFixtures.newPipeline(3);
    p.apply(Create.of(records)).apply(QuarantineWrite.to(file.toString()));
    p.run().waitUntilFinish();
  }

  private static List<String> listing(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(x -> x.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  /**
   * On a stream each bundle's records go to a run as it finishes; once the stream has stopped,
   * finishRuns merges them into the bytes the bounded write gives. A replay that writes the same
   * records again (a restart from a checkpoint) leaves each once.
   */
  @Test
  void onAStreamBundleRunsMergeIntoTheSameBytes() throws Exception {
    Path file = tmp.resolve("_runs/r1/quarantine.jsonl");
    for (int attempt = 0; attempt < 2; attempt++) {
      Pipeline p = SinkFixtures.newPipeline(2);
      org.apache.beam.sdk.testing.TestStream<QuarantineRecord> stream =
          org.apache.beam.sdk.testing.TestStream.create(QuarantineRecord.QuarantineRecordCoder.of())
              .addElements(RECORDS.get(0), RECORDS.get(1))
              .advanceProcessingTime(org.joda.time.Duration.standardSeconds(1))
              .addElements(RECORDS.get(2), RECORDS.get(3), RECORDS.get(4))
              .advanceWatermarkToInfinity();
      p.apply(stream).apply(QuarantineWrite.to(file.toString()));
      p.run().waitUntilFinish();
      assertThat("nothing is written into the file before finishRuns", Files.exists(file),
          is(false));
    }
    try (Stream<Path> runs = Files.list(QuarantineWrite.runsFolder(file.toString()))) {
      assertThat(runs.count() >= 2, is(true));
    }
    assertThat(QuarantineWrite.finishRuns(file.toString()), is(5L));
    assertThat(Files.readString(file), is(EXPECTED));
    assertThat(listing(file.getParent()), contains("quarantine.jsonl"));
  }
}
