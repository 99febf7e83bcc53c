package dev.featurebeam.io.sink;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The few file operations the offline store needs on a remote root ({@code hdfs://…}, {@code
 * s3://…}, any scheme Beam's {@code FileSystems} knows). Locations are URI strings, folders have
 * no trailing slash, and a "folder" on an object store is only a common prefix: it exists while a
 * file under it does. None of these is atomic across files; the store's protocol on a remote root
 * ({@link RemotePublish}) needs only that one file's create is whole or absent once it returns.
 */
interface RemoteFs {
  /** Creates or replaces {@code file}; its bytes are visible once the stream is closed. */
  OutputStream create(String file) throws IOException;

  InputStream open(String file) throws IOException;

  /** Whether a file (not a folder) is at {@code file}. */
  boolean isFile(String file) throws IOException;

  /** The names of the files and folders directly in {@code dir}, sorted; empty when none. */
  List<String> list(String dir) throws IOException;

  /** Deletes a file; a missing one is not an error. */
  void delete(String file) throws IOException;

  /** Deletes a folder and everything under it; a missing one is not an error. */
  void deleteTree(String dir) throws IOException;

  /** Deletes a folder that holds nothing (a no-op where folders are only prefixes). */
  void deleteIfEmpty(String dir) throws IOException;

  /** Copies a file over whatever {@code to} holds. */
  void copy(String from, String to) throws IOException;

  /**
   * Creates {@code file} with {@code bytes} only if nothing is there, atomically for every client
   * of the store; false when it was there.
   *
   * @throws UnsupportedOperationException where the store has no such create (S3 through Beam)
   */
  boolean createExclusive(String file, byte[] bytes) throws IOException;

  /** A short name of what answers, for messages: "HDFS", "Beam FileSystems (s3)". */
  String describe();

  default byte[] read(String file) throws IOException {
    try (InputStream in = open(file)) {
      return in.readAllBytes();
    }
  }

  default void write(String file, byte[] bytes) throws IOException {
    try (OutputStream out = create(file)) {
      out.write(bytes);
    }
  }

  /** Uploads a local file. */
  default void upload(Path local, String file) throws IOException {
    try (OutputStream out = create(file)) {
      Files.copy(local, out);
    }
  }

  /** Downloads to a local file, replacing it. */
  default void download(String file, Path local) throws IOException {
    try (InputStream in = open(file)) {
      Files.copy(in, local, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** For callers that only want the bytes of a small file, or nothing when it is absent. */
  default byte[] readIfFile(String file) throws IOException {
    if (!isFile(file)) {
      return null;
    }
    try (InputStream in = open(file)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toByteArray();
    }
  }
}
