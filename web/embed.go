// Package web holds the browser side of Pinion (the TypeScript client in
// client/ and the Vue demo app in demo/) and embeds the demo's production
// build, so the Go binary serves it with no Node installed.
//
// The build is committed: run `npm ci && npm run build` in web/ after changing
// anything under web/, and commit web/dist. TestDistIsFresh fails when the
// sources no longer match the build.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist returns the built demo app, rooted at the directory that holds
// index.html.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub fails only on an invalid path, and "dist" is valid.
		panic(err)
	}
	return sub
}
