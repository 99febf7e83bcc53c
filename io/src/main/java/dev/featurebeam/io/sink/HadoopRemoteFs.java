package dev.featurebeam.io.sink;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.io.hdfs.HadoopFileSystemOptions;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;

/**
 * An HDFS root through Hadoop's FileSystem API, with the configuration of Beam's {@code
 * --hdfsConfiguration} (one configuration; Beam fills it from HADOOP_CONF_DIR or YARN_CONF_DIR
 * when the option is absent). Unlike Beam's FileSystems it has an exclusive create ({@code
 * create(path, overwrite=false)} is decided by the namenode), which the store's lock uses.
 */
final class HadoopRemoteFs implements RemoteFs {
  private final FileSystem fs;
  private final Configuration conf;

  private HadoopRemoteFs(FileSystem fs, Configuration conf) {
    this.fs = fs;
    this.conf = conf;
  }

  static HadoopRemoteFs open(URI uri, PipelineOptions options) {
    List<Configuration> given = options.as(HadoopFileSystemOptions.class).getHdfsConfiguration();
    Configuration conf = given == null || given.isEmpty() ? new Configuration()
        : new Configuration(given.get(0));
    try {
      return new HadoopRemoteFs(FileSystem.get(uri, conf), conf);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot reach " + uri + ": " + e.getMessage(), e);
    }
  }

  @Override
  public OutputStream create(String file) throws IOException {
    return fs.create(new Path(file), true);
  }

  @Override
  public InputStream open(String file) throws IOException {
    return fs.open(new Path(file));
  }

  @Override
  public boolean isFile(String file) throws IOException {
    try {
      return fs.getFileStatus(new Path(file)).isFile();
    } catch (FileNotFoundException e) {
      return false;
    }
  }

  @Override
  public List<String> list(String dir) throws IOException {
    List<String> names = new ArrayList<>();
    try {
      for (FileStatus s : fs.listStatus(new Path(dir))) {
        names.add(s.getPath().getName());
      }
    } catch (FileNotFoundException e) {
      return names;
    }
    names.sort(null);
    return names;
  }

  @Override
  public void delete(String file) throws IOException {
    fs.delete(new Path(file), false);
  }

  @Override
  public void deleteTree(String dir) throws IOException {
    fs.delete(new Path(dir), true);
  }

  @Override
  public void deleteIfEmpty(String dir) throws IOException {
    try {
      if (fs.listStatus(new Path(dir)).length == 0) {
        fs.delete(new Path(dir), false);
      }
    } catch (FileNotFoundException e) {
      // gone already
    }
  }

  @Override
  public void copy(String from, String to) throws IOException {
    if (!FileUtil.copy(fs, new Path(from), fs, new Path(to), false, true, conf)) {
      throw new IOException("cannot copy " + from + " to " + to);
    }
  }

  @Override
  public boolean createExclusive(String file, byte[] bytes) throws IOException {
    try (FSDataOutputStream out = fs.create(new Path(file), false)) {
      out.write(bytes);
    } catch (FileAlreadyExistsException e) {
      return false;
    } catch (org.apache.hadoop.ipc.RemoteException e) {
      if (e.unwrapRemoteException(FileAlreadyExistsException.class)
          instanceof FileAlreadyExistsException) {
        return false;
      }
      throw e;
    }
    return true;
  }

  @Override
  public String describe() {
    return "HDFS " + fs.getUri();
  }
}
