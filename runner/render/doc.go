// Package render draws published pages in headless Chromium and returns
// PNG images of them: dashboard thumbnails, and the images of alerts and
// reports (DESIGN.md, runner/render).
//
// A runner process holds one Renderer. It starts Chromium on first use,
// keeps it warm with a bounded pool of tabs, and starts a new one when it
// crashed. Each render loads the page of a release from object storage,
// through a loopback-only HTTP handler inside the Renderer, so no server
// needs to run; the tab may reach nothing else. The render waits for the
// signal that bic.js sets once every chart drew, and refuses to deliver an
// image in which a chart shows an error or no data: a *RenderError says
// which chart failed.
//
// The package imports chromedp and the publish packages that describe a
// release (publish/release, publish/storage); it must not import the
// server, a warehouse or the metadata DB.
package render
