"""Page through a TAXII 2.1 collection with the OASIS client, taxii2-client
(`as_pages(Collection.get_objects)`), as a Python peer pulls: every page parsed into
dicts, nothing stored. Prints the number of objects read.

Usage: taxii2_client_pull.py COLLECTION_URL PAGE basic USER PASSWORD
       taxii2_client_pull.py COLLECTION_URL PAGE bearer TOKEN
"""
import sys

import requests
from taxii2client.v21 import Collection, as_pages


class Bearer(requests.auth.AuthBase):
    def __init__(self, token):
        self.token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def main():
    url, page, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if kind == "basic":
        collection = Collection(url, user=sys.argv[4], password=sys.argv[5])
    else:
        collection = Collection(url, auth=Bearer(sys.argv[4]))
    total = 0
    for envelope in as_pages(collection.get_objects, per_request=page):
        total += len(envelope.get("objects", []))
    print(total)


if __name__ == "__main__":
    main()
