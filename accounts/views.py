from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from . import lockout, services


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


@never_cache  # the new token must not stay in a browser or proxy cache
@login_required
@require_http_methods(["GET", "POST"])
def api_token(request):
    """Show whether I have an API token; POST makes a new one (shown once)."""
    if request.method == "POST":
        token = services.rotate_api_token(request.user)
        messages.success(request, "A new API token was created. Copy it now: it is shown only once.")
        return render(request, "accounts/api_token.html", {"new_token": token.key, "has_token": True})
    has_token = Token.objects.filter(user=request.user).exists()
    return render(request, "accounts/api_token.html", {"has_token": has_token})


