package dev.featurebeam.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;

import org.junit.jupiter.api.Test;

class VersionTest {
  @Test
  void onAPlainClassPathTheVersionIsThePomsAsInTheJar() {
    String pom = System.getProperty("featurebeam.pomVersion");
    assertThat("surefire passes the POM's version", pom, not(nullValue()));
    assertThat(Version.get(), is(pom));
    assertThat(Version.tool(), is("featurebeam-" + pom));
  }
}
