"""People logging in: the OpenID Connect relying party (staff through their municipality's
identity provider, citizens through a broker in front of NemLog-in), their sessions in sealed
cookies, and CSRF protection of every form and every changing API call made with a session.

``sessions`` seals and reads the cookies and turns a session into a ``Principal``; ``oidc``
talks to identity providers (Authlib validates the ID token); ``routes`` has the pages;
``csrf`` lets a form field carry the CSRF token; ``devidp`` runs the development identity
provider of the demo and the tests. See docs/security.md, "Sessions and login"."""
