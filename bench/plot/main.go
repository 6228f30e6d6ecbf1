// Command plot draws a soak run's CSV (from bench/soak) as a PNG: RSS and
// heap in MB, and goroutines and open streams, over time.
//
// It is a module of its own so that its plotting dependencies
// (gonum.org/v1/plot and its fonts) stay out of Pinion's go.mod:
//
//	cd bench/plot && go run . -in ../../soak.csv -out ../../docs/soak.png -title "soak, 1 h"
package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

func main() {
	in := flag.String("in", "soak.csv", "CSV written by bench/soak")
	out := flag.String("out", "soak.png", "PNG to write")
	title := flag.String("title", "Pinion soak", "title of the figure")
	flag.Parse()
	if err := draw2(*in, *out, *title); err != nil {
		fmt.Fprintln(os.Stderr, "plot:", err)
		os.Exit(1)
	}
}

func draw2(in, out, title string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return err
	}
	if len(rows) < 2 {
		return errors.New("no samples")
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	series := func(name string, scale float64) (plotter.XYs, error) {
		i, ok := col[name]
		if !ok {
			return nil, fmt.Errorf("no column %q", name)
		}
		xys := make(plotter.XYs, 0, len(rows)-1)
		for _, r := range rows[1:] {
			x, err1 := strconv.ParseFloat(r[col["elapsed_s"]], 64)
			y, err2 := strconv.ParseFloat(r[i], 64)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("bad row %v", r)
			}
			xys = append(xys, plotter.XY{X: x / 60, Y: y * scale})
		}
		return xys, nil
	}
	panel := func(t, ylabel string, lines ...any) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = t
		p.X.Label.Text = "minutes"
		p.Y.Label.Text = ylabel
		p.Y.Min = 0
		p.Add(plotter.NewGrid())
		colors := []color.Color{color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 255}, color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 255}}
		for i := 0; i+1 < len(lines); i += 2 {
			name, col := lines[i].(string), lines[i+1].(string)
			scale := 1.0
			if col == "rss_bytes" || col == "heap_inuse_bytes" {
				scale = 1e-6
			}
			xys, err := series(col, scale)
			if err != nil {
				return nil, err
			}
			l, err := plotter.NewLine(xys)
			if err != nil {
				return nil, err
			}
			l.Color = colors[(i/2)%len(colors)]
			l.Width = vg.Points(1.5)
			p.Add(l)
			p.Legend.Add(name, l)
		}
		p.Legend.Top = false
		p.Legend.Left = true
		return p, nil
	}
	mem, err := panel(title+": memory", "MB", "RSS", "rss_bytes", "heap in use", "heap_inuse_bytes")
	if err != nil {
		return err
	}
	gor, err := panel(title+": goroutines and streams", "count", "goroutines", "goroutines", "open streams", "streams_open")
	if err != nil {
		return err
	}
	img := vgimg.New(vg.Points(900), vg.Points(700))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(6), PadY: vg.Points(12)}
	canvases := plot.Align([][]*plot.Plot{{mem}, {gor}}, tiles, dc)
	mem.Draw(canvases[0][0])
	gor.Draw(canvases[1][0])
	w, err := os.Create(out)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
