vcl 4.1;
# The recipe of docs/deploy.md, as tests/api/edge.rs and scripts/bench-http run
# it: ORIGIN_PORT is replaced by the port of the wirefeed under test.
import xkey;

backend origin { .host = "127.0.0.1"; .port = "ORIGIN_PORT"; }

# Only wirefeed may purge.
acl purgers { "127.0.0.1"; }

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) { return (synth(403, "Forbidden")); }
        if (req.http.xkey-purge) {
            set req.http.n-gone = xkey.purge(req.http.xkey-purge);
            return (synth(200, "Purged " + req.http.n-gone));
        }
        return (purge);
    }
}

sub vcl_backend_response {
    # wirefeed names a document's tags in Surrogate-Key; xkey indexes its own header.
    set beresp.http.xkey = beresp.http.Surrogate-Key;
}

sub vcl_deliver {
    unset resp.http.xkey;
    if (obj.hits > 0) { set resp.http.X-Cache = "HIT"; } else { set resp.http.X-Cache = "MISS"; }
}
