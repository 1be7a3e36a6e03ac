"""Meta's WhatsApp Cloud API shapes: inbound webhooks (`webhook`) and Graph API send requests (`graph`)."""
