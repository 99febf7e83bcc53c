package dev.featurebeam.pipelines;

import org.apache.beam.runners.dataflow.DataflowRunner;
import org.apache.beam.runners.dataflow.options.DataflowPipelineOptions;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * What the commands do on Google Cloud Dataflow. The batch and the stream translate to a Dataflow
 * job, and with {@code --templateLocation=FILE} the runner writes that job's specification to FILE
 * and runs nothing (no credentials or network needed with the options runners-config/dataflow.args
 * describes). A job that runs is refused for now: the offline store, the run's staging, its
 * outcomes, quarantine and report are local files written with {@code java.nio}, which Dataflow's
 * workers do not share with the machine that submits the job; running there needs the store on
 * {@code gs://} through Beam's {@code FileSystems}.
 */
final class DataflowJob {
  private DataflowJob() {}

  static boolean isDataflow(PipelineOptions options) {
    return DataflowRunner.class.equals(options.getRunner());
  }

  static boolean isFlink(PipelineOptions options) {
    return FlinkRunner.class.equals(options.getRunner());
  }

  static boolean isDirect(PipelineOptions options) {
    return DirectRunner.class.equals(options.getRunner());
  }

  /** Whether the command only writes a Dataflow job's specification ({@code --templateLocation}). */
  static boolean specificationOnly(PipelineOptions options) {
    return isDataflow(options)
        && options.as(DataflowPipelineOptions.class).getTemplateLocation() != null;
  }

  /** Where {@link #write} puts the specification. */
  static String location(PipelineOptions options) {
    return options.as(DataflowPipelineOptions.class).getTemplateLocation();
  }

  /**
   * Stops {@code command} before any work when it would run on Dataflow (see the class comment);
   * writing a job's specification is allowed where {@code specificationAllowed}.
   */
  static void refuseRun(String command, PipelineOptions options, boolean specificationAllowed) {
    if (!isDataflow(options) || (specificationAllowed && specificationOnly(options))) {
      return;
    }
    throw new IllegalArgumentException("--runner=DataflowRunner: " + command + " writes the offline"
        + " store, its staging, the quarantine and the run report as local files, which Dataflow's"
        + " workers do not share with this machine, so a job there would publish nothing; it needs"
        + " the store on gs:// through Beam's FileSystems, which this version does not have"
        + (specificationAllowed ? ". --templateLocation=FILE writes the job's specification"
            + " without running it" : ""));
  }

  /** Has the Dataflow runner translate {@code pipeline} and write its job's specification. */
  static String write(Pipeline pipeline) {
    try {
      pipeline.run();
    } catch (RuntimeException e) {
      throw new BatchPipeline.PipelineFailedException(e);
    }
    return location(pipeline.getOptions());
  }
}
