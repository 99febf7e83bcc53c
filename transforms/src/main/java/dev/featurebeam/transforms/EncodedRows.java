package dev.featurebeam.transforms;

import dev.featurebeam.coders.Encoded;
import dev.featurebeam.model.QuarantineRecord;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/** Event rows that cross a step boundary as their coder's bytes ({@link Encoded}). */
final class EncodedRows {
  private EncodedRows() {}

  /**
   * Applies {@code fn}, a per-record step with two outputs, event rows ({@code encoded}, decoded
   * into {@code rows} by the next step) and quarantine records ({@code quarantined}). The rows
   * leave the step encoded because Flink's batch runner sends every output of a multi-output step
   * to the readers of each output: plain rows went to the quarantine's reader too, encoded once per
   * reader and decoded there only to be dropped.
   */
  static <InT> PCollectionTuple withQuarantine(
      PCollection<InT> input,
      String name,
      DoFn<InT, Encoded<Row>> fn,
      RowCoder rowCoder,
      TupleTag<Encoded<Row>> encoded,
      TupleTag<Row> rows,
      TupleTag<QuarantineRecord> quarantined) {
    PCollectionTuple out =
        input.apply(name, ParDo.of(fn).withOutputTags(encoded, TupleTagList.of(quarantined)));
    out.get(quarantined).setCoder(QuarantineRecord.QuarantineRecordCoder.of());
    PCollection<Row> decoded =
        out.get(encoded)
            .setCoder(Encoded.coder(rowCoder))
            .apply("Decode" + name, ParDo.of(new DecodeFn()))
            .setCoder(rowCoder);
    return PCollectionTuple.of(rows, decoded).and(quarantined, out.get(quarantined));
  }

  /** Decodes rows that crossed a step boundary encoded. */
  static class DecodeFn extends DoFn<Encoded<Row>, Row> {
    @ProcessElement
    public void process(@Element Encoded<Row> row, OutputReceiver<Row> out) {
      out.output(row.get());
    }
  }
}
