"""The negotiation engine: pure Python, no Django or Channels imports."""
