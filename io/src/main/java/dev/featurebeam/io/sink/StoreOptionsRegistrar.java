package dev.featurebeam.io.sink;

import java.util.List;
import org.apache.beam.sdk.io.aws2.options.S3Options;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsRegistrar;

/**
 * Makes Beam's S3 options known to the command line. Beam's AWS module registers only its
 * general AWS options ({@code --awsRegion}, {@code --endpoint}, {@code --awsCredentialsProvider},
 * …), although its S3 file system reads {@code S3Options} ({@code --s3ClientFactoryClass}, {@code
 * --s3UploadBufferSizeBytes}, {@code --SSEAlgorithm}, …).
 */
public final class StoreOptionsRegistrar implements PipelineOptionsRegistrar {
  @Override
  public Iterable<Class<? extends PipelineOptions>> getPipelineOptions() {
    return List.of(S3Options.class);
  }
}
