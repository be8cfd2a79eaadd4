// Package superset translates an Apache Superset asset export (the ZIP of
// Superset's "Export", or its unpacked folder: metadata.yaml, databases/,
// datasets/, charts/, dashboards/) into the files of a bic project.
//
// It is pure, like the rest of the compiler layer: the export comes in as
// an fs.FS (a folder, or a ZIP checked by OpenZip), the project's files
// come out as bytes with warnings for what could not be translated. It
// writes nothing, logs nothing and must not import os, net or a logger.
package superset
