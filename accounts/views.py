from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from handoff.core.errors import DomainError

from . import lockout, selectors, services
from .forms import ApiTokenForm


class LoginView(auth_views.LoginView):
    """Django's login page; an account locked after too many failures is
    answered 429 with the time to try again (the form's own error would
    wrongly say the password is wrong)."""

    redirect_authenticated_user = True

    def form_invalid(self, form):
        refused = lockout.lockout_of(self.request)
        if refused is None:
            return super().form_invalid(form)
        message, wait = refused
        response = self.render_to_response(self.get_context_data(form=form, lockout=message), status=429)
        response["Retry-After"] = str(wait)
        return response


def _tokens_page(request, *, form=None, created=None, status=200):
    return render(request, "accounts/api_token.html", {
        "tokens": selectors.tokens_of(request.user),
        "form": form or ApiTokenForm(),
        "created": created,
    }, status=status)


@never_cache  # a new token's secret must not stay in a browser or proxy cache
@login_required
@require_http_methods(["GET", "POST"])
def api_token(request):
    """My API tokens, and the form for a new one; its secret is shown once, here."""
    if request.method != "POST":
        return _tokens_page(request)
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, secret = services.create_api_token(request.user, name=form.cleaned_data["name"])
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return _tokens_page(request, created={"token": token, "secret": secret}, status=201)
    return _tokens_page(request, form=form, status=400)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def revoke_api_token(request, pk):
    """GET asks to confirm; POST revokes one of my tokens (someone else's is a 404)."""
    token = selectors.token_of(request.user, pk)
    if token is None:
        raise Http404("Not found.")
    if request.method != "POST":
        return render(request, "accounts/revoke_api_token.html", {"token": token})
    token = services.revoke_api_token(request.user, token)
    messages.success(request, f"The token {token.name} ({token.prefix}…) is revoked: "
                              "requests with it are refused from now on.")
    return redirect("api_token")
