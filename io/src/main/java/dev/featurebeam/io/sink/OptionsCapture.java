package dev.featurebeam.io.sink;

import java.util.List;
import org.apache.beam.sdk.io.FileSystem;
import org.apache.beam.sdk.io.FileSystemRegistrar;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * Registers no file system: it hears the pipeline options each time a runner (on the driver or a
 * worker) configures Beam's file systems, so that the offline store reaches a remote root with
 * the job's own {@code --hdfsConfiguration} and AWS options wherever its steps run.
 */
public final class OptionsCapture implements FileSystemRegistrar {
  @Override
  public Iterable<FileSystem<?>> fromOptions(PipelineOptions options) {
    StoreLocation.remember(options);
    return List.of();
  }
}
