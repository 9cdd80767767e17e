from channels.auth import AuthMiddleware
from django.urls import re_path

from game import consumers

websocket_urlpatterns = [
    re_path(r"^ws/play/(?P<code>[^/]{1,12})/$", consumers.PlayerConsumer.as_asgi()),
    re_path(r"^ws/host/(?P<code>[^/]{1,12})/$", AuthMiddleware(consumers.HostConsumer.as_asgi())),
    re_path(r"^ws/relay/(?P<group>[A-Za-z0-9]{1,40})/$", consumers.RelayConsumer.as_asgi()),
]
