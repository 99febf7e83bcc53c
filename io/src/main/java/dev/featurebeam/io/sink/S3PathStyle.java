package dev.featurebeam.io.sink;

import org.apache.beam.sdk.io.aws2.options.S3ClientBuilderFactory;
import org.apache.beam.sdk.io.aws2.options.S3Options;
import org.apache.beam.sdk.io.aws2.s3.DefaultS3ClientBuilderFactory;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * Beam's S3 client with path-style requests ({@code http://HOST:PORT/bucket/key} rather than
 * {@code http://bucket.HOST:PORT/key}), which S3-compatible servers reached by an IP address or
 * {@code localhost} need (MinIO, Ceph, S3Mock): pass {@code
 * --s3ClientFactoryClass=dev.featurebeam.io.sink.S3PathStyle} with {@code --endpoint=…}. Every
 * other setting is Beam's own ({@code --awsRegion}, {@code --awsCredentialsProvider}, …).
 */
public final class S3PathStyle implements S3ClientBuilderFactory {
  @Override
  public S3ClientBuilder createBuilder(S3Options options) {
    return new DefaultS3ClientBuilderFactory().createBuilder(options).forcePathStyle(true);
  }
}
