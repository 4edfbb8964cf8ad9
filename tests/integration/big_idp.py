#!/usr/bin/python3
"""tests/idp/bad_idp.py with a user carrying large claims (SECURITY.md F04): 200 groups and a
long name, in the id_token and at userinfo.  Same command line as bad_idp.py."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'idp'))
import bad_idp  # noqa: E402

bad_idp.USER.update(
    groups=['group-%03d-%s' % (i, 'engineering-platform-team') for i in range(200)],
    name='Alice ' + 'Very-Long-Family-Name-' * 40,
    locale='en-GB', picture='https://example.com/' + 'p' * 900)

if __name__ == '__main__':
    sys.exit(bad_idp.main())
