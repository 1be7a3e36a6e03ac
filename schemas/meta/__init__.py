"""Meta's WhatsApp Cloud API shapes: inbound webhooks (`webhook`), their signature (`signature`) and Graph API send
requests (`graph`)."""
