package dev.featurebeam.pipelines;

import java.net.SocketPermission;
import java.security.Permission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * While installed, refuses at once every attempt of this JVM to resolve or connect to a host other
 * than the loopback one, and records it: a test that would wait on a network fails fast and says
 * what it tried. Every other permission is granted. (A {@link SecurityManager}: JDK 17 still
 * installs one at run time, with a deprecation warning.)
 */
@SuppressWarnings({"removal", "deprecation"})
final class NoNetwork extends SecurityManager implements AutoCloseable {
  private static final Set<String> LOOPBACK =
      Set.of("localhost", "127.0.0.1", "[0:0:0:0:0:0:0:1]", "[::1]", "::1", "0:0:0:0:0:0:0:1");

  private final SecurityManager previous;
  private final List<String> attempts = new ArrayList<>();
  private final List<Throwable> traces = new ArrayList<>();

  private NoNetwork(SecurityManager previous) {
    this.previous = previous;
  }

  static NoNetwork install() {
    NoNetwork guard = new NoNetwork(System.getSecurityManager());
    System.setSecurityManager(guard);
    return guard;
  }

  /** What was refused, as {@code host[:port] actions}. */
  synchronized List<String> attempts() {
    return List.copyOf(attempts);
  }

  /** Where each refused attempt came from. */
  synchronized String traces() {
    StringBuilder out = new StringBuilder();
    for (Throwable t : traces) {
      java.io.StringWriter w = new java.io.StringWriter();
      t.printStackTrace(new java.io.PrintWriter(w));
      out.append(w);
    }
    return out.toString();
  }

  @Override
  public void checkPermission(Permission perm) {
    if (perm instanceof SocketPermission
        && (perm.getActions().contains("connect") || perm.getActions().contains("resolve"))) {
      String name = perm.getName();
      String host = name.startsWith("[") ? name.substring(0, name.indexOf(']') + 1)
          : name.contains(":") ? name.substring(0, name.lastIndexOf(':')) : name;
      if (!LOOPBACK.contains(host)) {
        synchronized (this) {
          attempts.add(name + " " + perm.getActions());
          traces.add(new Throwable(name + " " + perm.getActions()));
        }
        throw new SecurityException("no network in this test: " + name + " " + perm.getActions());
      }
    }
  }

  @Override
  public void checkPermission(Permission perm, Object context) {
    checkPermission(perm);
  }

  @Override
  public void close() {
    System.setSecurityManager(previous);
  }
}
