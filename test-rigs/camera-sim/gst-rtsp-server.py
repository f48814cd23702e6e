#!/usr/bin/python3
"""A real RTSP server (GStreamer gst-rtsp-server) for testing the camera driver against
something we did not write. Prints "READY <port>" once listening on 127.0.0.1 (port 0 = OS picks).

Debian packages: python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
"""
import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--port", default="0")
p.add_argument("--path", default="/stream1")
p.add_argument("--user")
p.add_argument("--password")
p.add_argument("--auth", choices=["digest", "basic"], default="digest")
p.add_argument("--audio-only", action="store_true")
args = p.parse_args()

Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(args.port)

factory = GstRtspServer.RTSPMediaFactory()
if args.audio_only:
    factory.set_launch("( audiotestsrc is-live=true ! audioconvert ! rtpL16pay name=pay0 pt=96 )")
else:
    factory.set_launch("( videotestsrc is-live=true ! video/x-raw,format=I420,width=64,height=48,framerate=5/1 ! jpegenc ! rtpjpegpay name=pay0 pt=26 )")
factory.set_shared(True)

if args.user:
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "viewer")
    if args.auth == "digest":
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        auth.add_digest(args.user, args.password, token)
    else:
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password), token)
    server.set_auth(auth)
    perms = GstRtspServer.RTSPPermissions()
    perms.add_permission_for_role("viewer", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
    perms.add_permission_for_role("viewer", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
    factory.set_permissions(perms)

server.get_mount_points().add_factory(args.path, factory)
if server.attach(None) == 0:
    print("FAILED attach", flush=True)
    sys.exit(2)
print(f"READY {server.get_bound_port()}", flush=True)
GLib.MainLoop().run()
