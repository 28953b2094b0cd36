# Home Assistant 2026.10 and newer validate with probatio and alias the
# voluptuous module to it at start (probatio.compat.install_as_voluptuous), so
# on those releases `import voluptuous` is probatio: type-check it as such.
from probatio import *
from probatio import Marker as Marker, Schema as Schema
