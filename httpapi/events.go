package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// streamPath is the event stream's route; it alone has no request deadline.
const streamPath = "/v1/events/stream"

// DefaultStreamHeartbeat is how often an idle stream sends a comment line.
const DefaultStreamHeartbeat = 10 * time.Second

type streamInput struct {
	LastEventIDHeader string `header:"Last-Event-ID" doc:"Resume after this event"`
	LastEventID       string `query:"last_event_id" doc:"Resume after this event (for clients that cannot set the header)"`
	Types             string `query:"types" doc:"Comma-separated event types to receive; all when absent" example:"membership.created,membership.deleted"`
}

// streamEvents answers with Server-Sent Events: every event the caller may
// see, from now or after Last-Event-ID, and a comment line when idle.
func (s *Server) streamEvents(ctx context.Context, in *streamInput) (*huma.StreamResponse, error) {
	last := in.LastEventIDHeader
	if last == "" {
		last = in.LastEventID
	}
	var types []string
	for _, t := range strings.Split(in.Types, ",") {
		if t = strings.TrimSpace(t); t != "" {
			types = append(types, t)
		}
	}
	watch, err := s.svc.WatchEvents(ctx, last, types)
	if err != nil {
		return nil, err
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		defer watch.Close()
		hctx.SetHeader("Content-Type", "text/event-stream")
		hctx.SetHeader("Cache-Control", "no-store")
		hctx.SetHeader("X-Accel-Buffering", "no")
		hctx.SetStatus(http.StatusOK)
		w := hctx.BodyWriter()
		flush := func() error {
			if rw, ok := w.(http.ResponseWriter); ok {
				return http.NewResponseController(rw).Flush()
			}
			return nil
		}
		ctx, cancel := context.WithCancel(hctx.Context())
		defer cancel()
		stop := context.AfterFunc(s.closing, cancel) // the server is shutting down
		defer stop()
		if _, err := fmt.Fprint(w, ": connected\n\n"); err != nil || flush() != nil {
			return
		}
		for {
			e, ok, err := watch.Next(ctx, s.heartbeat)
			if err != nil {
				if ctx.Err() == nil {
					logger(ctx).InfoContext(ctx, "event stream ended", "err", err)
				}
				return
			}
			if ok {
				body, err := json.Marshal(e) // roster.Event is the wire shape
				if err != nil {
					return
				}
				_, err = fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", e.ID, e.Type, body)
				if err != nil {
					return
				}
			} else if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
				return
			}
			if flush() != nil {
				return
			}
		}
	}}, nil
}

// CloseStreams ends every open event stream, so that a shutdown that waits
// for requests to finish does not wait for them.
func (s *Server) CloseStreams() { s.closeStreams() }
