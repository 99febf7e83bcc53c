package dev.featurebeam.it;

import com.google.api.services.dataflow.model.DataflowPackage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.runners.dataflow.util.PackageUtil;
import org.apache.beam.runners.dataflow.util.Stager;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * A Dataflow {@link Stager} ({@code --stagerClass}) that uploads nothing: each file it is given is
 * named at a placeholder {@code gs://} location, so that a job's specification can be written
 * without credentials or a network.
 */
public final class NoStager implements Stager {
  /** How many files the runner asked to stage, over all instances. */
  static final AtomicInteger FILES = new AtomicInteger();

  /** The bytes of the last file staged from memory by each name (the pipeline's proto: pipeline.pb). */
  static final java.util.Map<String, byte[]> STAGED =
      new java.util.concurrent.ConcurrentHashMap<>();

  private static final String LOCATION = "gs://featurebeam-no-bucket/staging/";

  /** The runner makes its stager through this factory. */
  public static NoStager fromOptions(PipelineOptions options) {
    return new NoStager();
  }

  @Override
  public List<DataflowPackage> stageFiles(List<PackageUtil.StagedFile> files) {
    List<DataflowPackage> packages = new ArrayList<>();
    for (PackageUtil.StagedFile f : files) {
      FILES.incrementAndGet();
      packages.add(new DataflowPackage().setName(f.getDestination())
          .setLocation(LOCATION + f.getDestination()));
    }
    return packages;
  }

  @Override
  public DataflowPackage stageToFile(byte[] bytes, String baseName) {
    FILES.incrementAndGet();
    STAGED.put(baseName, bytes.clone());
    return new DataflowPackage().setName(baseName).setLocation(LOCATION + baseName);
  }
}
