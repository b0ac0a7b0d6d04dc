"""Log intake: file tailing (``files``); HTTP uploads are parsed by the API route with the same parsers."""
